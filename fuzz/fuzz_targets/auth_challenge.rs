//! `Proxy-Authenticate` challenges (`auth::parse_challenges`), the method
//! choice, and Digest answers built from them.
//!
//! Input: `[allowed mask][plan (unused)]` then header values, one a line.
//!
//! Checks: values parsed together are the values parsed one by one;
//! render → parse gives the same challenges; `pick` only picks a method
//! offered and allowed; a Digest answer built from a challenge parses as
//! auth-params carrying the challenge's realm, nonce and opaque (what the
//! proxy will read back), and its nonce count goes up.
#![no_main]

use handover_proto::auth::digest::{DigestChallenge, DigestResponder};
use handover_proto::auth::{offered_mask, parse_challenges, pick, AuthMask};
use handover_proto_fuzz::oracle::{render_challenges, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let allowed = AuthMask(u32::from(input.byte()) | (u32::from(input.byte()) << 24));
    let _ = input.plan();
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    let values: Vec<&str> = text.split('\n').collect();
    let challenges = parse_challenges(values.iter().copied());
    let one_by_one: Vec<_> = values.iter().flat_map(|v| parse_challenges([*v])).collect();
    assert_eq!(challenges, one_by_one);

    let rendered = render_challenges(&challenges);
    let again = parse_challenges([rendered.as_str()]);
    assert_eq!(
        again, challenges,
        "render -> parse changed the challenges; rendered: {rendered:?}"
    );

    let offered = offered_mask(&challenges);
    for negotiate in [false, true] {
        if let Some(method) = pick(&challenges, allowed, negotiate) {
            assert!(offered.contains(method) && allowed.contains(method));
        }
    }

    for challenge in &challenges {
        let Ok(digest) = DigestChallenge::from_challenge(challenge) else {
            continue;
        };
        let mut responder = DigestResponder::new(digest.clone());
        let Ok(answer) =
            responder.authorization("CONNECT", "example.com:443", "alice", "secret", "0a4f113b")
        else {
            continue;
        };
        assert_eq!(responder.nonce_count(), 1);
        let read = parse_challenges([answer.as_str()]);
        assert_eq!(read.len(), 1, "Digest answer reads as {read:?}: {answer}");
        let answer_params = &read[0];
        assert_eq!(answer_params.scheme, "Digest");
        assert_eq!(
            answer_params.param("realm"),
            Some(digest.realm.as_str()),
            "{answer}"
        );
        assert_eq!(
            answer_params.param("nonce"),
            Some(digest.nonce.as_str()),
            "{answer}"
        );
        assert_eq!(
            answer_params.param("opaque"),
            digest.opaque.as_deref(),
            "{answer}"
        );
        assert_eq!(answer_params.param("uri"), Some("example.com:443"));
        if !digest.userhash {
            assert_eq!(answer_params.param("username"), Some("alice"));
        }
        assert!(
            !answer.contains("secret") || text.contains("secret"),
            "password in {answer}"
        );
        let second =
            responder.authorization("CONNECT", "example.com:443", "alice", "secret", "0a4f113b");
        assert!(second.is_ok());
        assert_eq!(responder.nonce_count(), 2);
    }
});
