//! The proleptic Gregorian calendar as a day count: what certificate times
//! (x509) and HTTP dates (`curl_getdate`) both turn into seconds since
//! the Unix epoch.

/// Days since 1970-01-01 of a date (month 1–12, day 1–31). The count is
/// taken from March 1st of year 0, so that a leap day ends its year, in
/// 400-year eras of 146,097 days.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // `date -d … +%s` / 86400.
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(2100, 3, 1), 47_541);
    }
}
