//! `CURLINFO_CERTINFO`: a `struct curl_certinfo *` over the lines handover
//! collected (`Info::certinfo`), built as C lists the handle owns. The
//! answer stays valid until the handle's next transfer or its cleanup, as
//! in libcurl: it is rebuilt only when the transfer's chain changed.

use std::ffi::{c_char, c_int, CString};
use std::ptr;

use crate::easy::Slist;

/// libcurl's `struct curl_certinfo`.
#[repr(C)]
pub(crate) struct CurlCertInfo {
    num_of_certs: c_int,
    certinfo: *mut *mut Slist,
}

/// What a handle keeps behind the pointer it gave out.
pub(crate) struct CertInfoHold {
    /// The chain the lists were made from (to tell whether it changed).
    source: Vec<Vec<String>>,
    /// One list per certificate, from `curl_slist_append`.
    lists: Box<[*mut Slist]>,
    info: Box<CurlCertInfo>,
}

impl CertInfoHold {
    /// The lists for `chain` (none for an empty one).
    fn new(chain: &[Vec<String>]) -> CertInfoHold {
        let mut lists: Box<[*mut Slist]> = chain
            .iter()
            .map(|lines| {
                let mut list: *mut Slist = ptr::null_mut();
                for line in lines {
                    // A NUL inside a line cannot be in a C string: cut there.
                    let text = CString::new(line.split('\0').next().unwrap_or_default())
                        .unwrap_or_default();
                    // SAFETY: `list` is NULL or a list this loop built with
                    // curl_slist_append; `text` is a C string.
                    let grown = unsafe { crate::misc::curl_slist_append(list, text.as_ptr()) };
                    if !grown.is_null() {
                        list = grown;
                    }
                }
                list
            })
            .collect();
        let info = Box::new(CurlCertInfo {
            num_of_certs: c_int::try_from(lists.len()).unwrap_or(c_int::MAX),
            certinfo: if lists.is_empty() {
                ptr::null_mut()
            } else {
                lists.as_mut_ptr()
            },
        });
        CertInfoHold {
            source: chain.to_vec(),
            lists,
            info,
        }
    }
}

impl Drop for CertInfoHold {
    fn drop(&mut self) {
        for list in self.lists.iter() {
            // SAFETY: each list came from curl_slist_append and is freed
            // once, here; the application's pointer dies with the hold.
            unsafe { crate::misc::curl_slist_free_all(*list) };
        }
    }
}

/// The `struct curl_certinfo *` for `chain`, reusing `hold` when it was
/// made from the same chain.
pub(crate) fn answer(hold: &mut Option<CertInfoHold>, chain: &[Vec<String>]) -> *const c_char {
    if hold.as_ref().is_none_or(|h| h.source != chain) {
        *hold = Some(CertInfoHold::new(chain));
    }
    hold.as_ref()
        .map_or(ptr::null(), |h| ptr::from_ref(&*h.info).cast::<c_char>())
}
