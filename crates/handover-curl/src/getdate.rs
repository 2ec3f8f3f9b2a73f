//! `curl_getdate`: libcurl's date parser for the formats HTTP uses — RFC
//! 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94
//! 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) — and the
//! looser mixes libcurl's `parsedate` accepts: tokens in any order, an
//! optional weekday, a time `hh:mm[:ss]`, a month name, a day, a two- or
//! four-digit year, and a zone (GMT/UTC/Z, the US and military names
//! libcurl knows, or `+hhmm`/`-hhmm`). Without a zone the time is GMT, as
//! in libcurl. -1 when it cannot be parsed.

use std::ffi::{c_char, CStr};

use crate::guard;

/// Day names as libcurl matches them (three letters, or the full name).
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Month abbreviations.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Zone names libcurl knows and their offsets west of GMT in minutes
/// (libcurl's `tz` table, daylight-saving ones included).
const ZONES: [(&str, i64); 30] = [
    ("gmt", 0),
    ("ut", 0),
    ("utc", 0),
    ("wet", 0),
    ("bst", -60),
    ("wat", 60),
    ("ast", 240),
    ("adt", 180),
    ("est", 300),
    ("edt", 240),
    ("cst", 360),
    ("cdt", 300),
    ("mst", 420),
    ("mdt", 360),
    ("pst", 480),
    ("pdt", 420),
    ("yst", 540),
    ("ydt", 480),
    ("hst", 600),
    ("hdt", 540),
    ("cat", 600),
    ("ahst", 600),
    ("nt", 660),
    ("idlw", 720),
    ("cet", -60),
    ("met", -60),
    ("mewt", -60),
    ("mest", -120),
    ("cest", -120),
    ("eet", -120),
];

/// The date in `text` as seconds since the epoch, or `None`.
pub(crate) fn parse(text: &str) -> Option<i64> {
    let (mut wday, mut month, mut day, mut year) = (None, None, None, None);
    let mut time: Option<(i64, i64, i64)> = None;
    let mut offset: Option<i64> = None; // minutes west of GMT
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word = text[start..i].to_ascii_lowercase();
            if wday.is_none() && word.len() >= 3 {
                if let Some(d) = WEEKDAYS
                    .iter()
                    .position(|w| *w == word || (word.len() == 3 && w.starts_with(&word)))
                {
                    wday = Some(d);
                    continue;
                }
            }
            if month.is_none() && word.len() == 3 {
                if let Some(m) = MONTHS.iter().position(|m| *m == word) {
                    month = Some(m as i64 + 1);
                    continue;
                }
            }
            if offset.is_none() {
                if let Some((_, west)) = ZONES.iter().find(|(z, _)| *z == word) {
                    offset = Some(*west);
                    continue;
                }
                if word == "z" {
                    offset = Some(0);
                    continue;
                }
            }
            return None;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &text[start..i];
            if time.is_none() && bytes.get(i) == Some(&b':') {
                // hh:mm[:ss]
                let rest = &text[start..];
                let end = rest
                    .find(|ch: char| !(ch.is_ascii_digit() || ch == ':'))
                    .unwrap_or(rest.len());
                let parts: Vec<&str> = rest[..end].split(':').collect();
                let num = |s: &str| s.parse::<i64>().ok();
                let (h, m, s) = match parts.as_slice() {
                    [h, m] => (num(h)?, num(m)?, 0),
                    [h, m, s] => (num(h)?, num(m)?, num(s)?),
                    _ => return None,
                };
                if h > 23 || m > 59 || s > 60 {
                    return None;
                }
                time = Some((h, m, s));
                i = start + end;
                continue;
            }
            let value: i64 = digits.parse().ok()?;
            let signed = start > 0 && matches!(bytes[start - 1], b'+' | b'-');
            if signed && digits.len() == 4 && offset.is_none() && time.is_some() {
                let minutes = value / 100 * 60 + value % 100;
                // "+0100" is east of GMT: subtract it.
                offset = Some(if bytes[start - 1] == b'+' {
                    -minutes
                } else {
                    minutes
                });
            } else if digits.len() == 8 && day.is_none() && year.is_none() && month.is_none() {
                year = Some(value / 10000);
                month = Some(value / 100 % 100);
                day = Some(value % 100);
            } else if day.is_none() && (1..=31).contains(&value) && digits.len() <= 2 {
                day = Some(value);
            } else if year.is_none() {
                year = Some(match (digits.len(), value) {
                    (1 | 2, v) if v < 70 => 2000 + v,
                    (1 | 2, v) => 1900 + v,
                    (_, v) => v,
                });
            } else {
                return None;
            }
        } else {
            i += 1;
        }
    }
    let _ = wday;
    let (month, day, year) = (month?, day?, year?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || year < 1583 {
        return None;
    }
    let (h, m, s) = time.unwrap_or((0, 0, 0));
    let seconds =
        handover_proto::civil::days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s;
    Some(seconds + offset.unwrap_or(0) * 60)
}

/// `curl_getdate`: `datestring` as seconds since the epoch, -1 when it
/// cannot be parsed. `now` is ignored, as in libcurl.
///
/// # Safety
///
/// `datestring` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn curl_getdate(
    datestring: *const c_char,
    _now: *const libc::time_t,
) -> libc::time_t {
    guard(-1, || {
        if datestring.is_null() {
            return -1;
        }
        // SAFETY: a C string, per the contract.
        let text = unsafe { CStr::from_ptr(datestring) };
        match text.to_str().ok().and_then(parse) {
            Some(t) => libc::time_t::try_from(t).unwrap_or(-1),
            None => -1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_the_three_http_formats() {
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 09:49:37 +0100",
            "Sun, 06 Nov 1994 03:49:37 EST",
            "19941106 08:49:37",
        ] {
            assert_eq!(parse(text), Some(784_111_777), "{text}");
        }
        for bad in ["", "not a date", "Sun, 32 Nov 1994", "Nov 1994 08:49:37"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    }
}
