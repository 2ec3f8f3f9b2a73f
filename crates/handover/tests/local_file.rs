//! `file://` connect-only, as libcurl: the file is opened, there is no
//! connection to hand over.

use handover::{ConnectOnly, Easy};

fn perform(url: &str) -> (Easy, Result<(), handover::Error>) {
    let mut easy = Easy::new();
    easy.url(url).unwrap();
    easy.connect_only(ConnectOnly::Connection).unwrap();
    // A proxy is no matter for a local file.
    easy.proxy("http://127.0.0.1:1").unwrap();
    let result = easy.perform();
    (easy, result)
}

#[test]
fn an_existing_file_opens_and_leaves_no_connection() {
    let dir = std::env::temp_dir().join(format!("handover-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a b.txt");
    std::fs::write(&path, b"x").unwrap();
    let url = format!("file://{}", path.display().to_string().replace(' ', "%20"));
    let (mut easy, result) = perform(&url);
    result.unwrap();
    assert_eq!(easy.active_socket(), None);
    assert_eq!(easy.send(b"x").unwrap_err().code(), 1);
    assert!(easy.take_connection().is_err());

    let (_, result) = perform(&format!("{url}.missing"));
    let err = result.unwrap_err();
    assert_eq!(err.code(), 37, "{err}");
    assert!(err.to_string().contains("Couldn't open file"), "{err}");
    let (_, result) = perform(&format!("file://elsewhere{}", path.display()));
    assert_eq!(result.unwrap_err().code(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
