//! Typed bit sets for libcurl's WebSocket numbers: [`Flags`] (the
//! `CURLWS_*` frame flags of `curl_ws_send`, `curl_ws_recv` and `struct
//! curl_ws_frame`) and [`Options`] (the `CURLOPT_WS_OPTIONS` bits).
//!
//! ```text
//!   C ABI (int)  ──Flags::from_bits──>  Flags  ──bits()──>  C ABI (int)
//!                  None: unknown bit          TEXT | CONT, PING, …
//! ```
//!
//! The two sets share numbers (`CURLWS_TEXT` and `CURLWS_RAW_MODE` are both
//! `1 << 0`), so they are two types: one cannot be passed for the other.
//!
//! Written by hand rather than with the `bitflags` crate: nine constants
//! and a dozen `const fn`s do not earn a dependency in the public API of
//! the sans-IO crate (a `bitflags` major version would become ours), and
//! the `Debug` output names libcurl's flags the way its docs do.

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not, Sub, SubAssign};

/// Declares a bit set over `u32` with named constants, the operators of a
/// set, and `bits`/`from_bits` for the C ABI.
macro_rules! bit_set {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$flag_meta:meta])* const $flag:ident = $value:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name(u32);

        impl $name {
            $( $(#[$flag_meta])* pub const $flag: $name = $name($value); )*

            const NAMED: &'static [(&'static str, $name)] = &[$((stringify!($flag), $name::$flag)),*];

            /// No bit set.
            pub const fn empty() -> $name {
                $name(0)
            }

            /// Every named bit set.
            pub const fn all() -> $name {
                $name(0 $(| $value)*)
            }

            /// The number libcurl's C API uses for this set.
            pub const fn bits(self) -> u32 {
                self.0
            }

            /// The set for a number from libcurl's C API; `None` when it has
            /// a bit this type does not name.
            pub const fn from_bits(bits: u32) -> Option<$name> {
                if bits & !$name::all().0 == 0 {
                    Some($name(bits))
                } else {
                    None
                }
            }

            /// The named bits of `bits`; the others are dropped.
            pub const fn from_bits_truncate(bits: u32) -> $name {
                $name(bits & $name::all().0)
            }

            /// `bits` as they are, unknown bits included (for passing a
            /// caller's number through to the check that refuses it).
            pub const fn from_bits_retain(bits: u32) -> $name {
                $name(bits)
            }

            /// Whether no bit is set.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            /// Whether every bit of `other` is set in `self`.
            pub const fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// Whether `self` and `other` share a bit.
            pub const fn intersects(self, other: $name) -> bool {
                self.0 & other.0 != 0
            }

            /// The bits of either (`self | other`).
            pub const fn union(self, other: $name) -> $name {
                $name(self.0 | other.0)
            }

            /// The bits of both (`self & other`).
            pub const fn intersection(self, other: $name) -> $name {
                $name(self.0 & other.0)
            }

            /// The bits of `self` that are not in `other` (`self - other`).
            pub const fn difference(self, other: $name) -> $name {
                $name(self.0 & !other.0)
            }

            /// Sets the bits of `other`.
            pub fn insert(&mut self, other: $name) {
                self.0 |= other.0;
            }

            /// Clears the bits of `other`.
            pub fn remove(&mut self, other: $name) {
                self.0 &= !other.0;
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, other: $name) -> $name {
                self.union(other)
            }
        }

        impl BitOrAssign for $name {
            fn bitor_assign(&mut self, other: $name) {
                self.insert(other);
            }
        }

        impl BitAnd for $name {
            type Output = $name;
            fn bitand(self, other: $name) -> $name {
                self.intersection(other)
            }
        }

        impl BitAndAssign for $name {
            fn bitand_assign(&mut self, other: $name) {
                self.0 &= other.0;
            }
        }

        impl Sub for $name {
            type Output = $name;
            fn sub(self, other: $name) -> $name {
                self.difference(other)
            }
        }

        impl SubAssign for $name {
            fn sub_assign(&mut self, other: $name) {
                self.remove(other);
            }
        }

        /// The named bits that are not set.
        impl Not for $name {
            type Output = $name;
            fn not(self) -> $name {
                $name::all().difference(self)
            }
        }

        /// `Name(A | B)`, unknown bits in hex, `Name(empty)` for none.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "("))?;
                let mut rest = self.0;
                let mut first = true;
                for (name, flag) in $name::NAMED {
                    if self.contains(*flag) && rest & flag.0 != 0 {
                        if !first {
                            f.write_str(" | ")?;
                        }
                        f.write_str(name)?;
                        rest &= !flag.0;
                        first = false;
                    }
                }
                if rest != 0 {
                    if !first {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{rest:#x}")?;
                } else if first {
                    f.write_str("empty")?;
                }
                f.write_str(")")
            }
        }

        /// The C number in hex (`{:#x}` prints `0x5` for `TEXT | CONT`).
        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }

        /// The C number in hex, upper case.
        impl fmt::UpperHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::UpperHex::fmt(&self.0, f)
            }
        }

        /// The C number in binary.
        impl fmt::Binary for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Binary::fmt(&self.0, f)
            }
        }
    };
}

bit_set! {
    /// libcurl's `CURLWS_*` frame flags: what a received frame is
    /// ([`Frame::flags`](super::Frame::flags)) and what a sent one should
    /// be. The numbers are libcurl's (`include/curl/websockets.h`), so
    /// [`bits`](Flags::bits) and [`from_bits`](Flags::from_bits) are the
    /// whole C mapping.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::ws::Flags;
    ///
    /// let flags = Flags::TEXT | Flags::CONT; // a text fragment, more to come
    /// assert!(flags.contains(Flags::CONT));
    /// assert_eq!(flags - Flags::CONT, Flags::TEXT);
    /// assert_eq!(flags.bits(), 0b101); // CURLWS_TEXT | CURLWS_CONT
    /// assert_eq!(Flags::from_bits(0x40), Some(Flags::PONG));
    /// assert_eq!(Flags::from_bits(0x80), None); // no such CURLWS_ flag
    /// assert_eq!(format!("{flags:?}"), "Flags(TEXT | CONT)");
    /// ```
    pub struct Flags {
        /// `CURLWS_TEXT` (`1 << 0`): a text message. The frame API does not
        /// check the payload for UTF-8; whole messages are checked.
        const TEXT = 1 << 0;
        /// `CURLWS_BINARY` (`1 << 1`): a binary message.
        const BINARY = 1 << 1;
        /// `CURLWS_CONT` (`1 << 2`): not the final fragment of a TEXT or
        /// BINARY message.
        const CONT = 1 << 2;
        /// `CURLWS_CLOSE` (`1 << 3`): a close frame (optional 2-byte status
        /// code, then a reason).
        const CLOSE = 1 << 3;
        /// `CURLWS_PING` (`1 << 4`): a ping.
        const PING = 1 << 4;
        /// `CURLWS_OFFSET` (`1 << 5`), send only: the call passes part of a
        /// frame; the first call's `fragsize` is the whole frame's payload
        /// length.
        const OFFSET = 1 << 5;
        /// `CURLWS_PONG` (`1 << 6`): a pong.
        const PONG = 1 << 6;
    }
}

bit_set! {
    /// libcurl's `CURLOPT_WS_OPTIONS` bits.
    ///
    /// # Examples
    ///
    /// ```
    /// use handover_proto::ws::Options;
    ///
    /// assert_eq!(Options::from_bits(2), Some(Options::NOAUTOPONG));
    /// assert_eq!(Options::from_bits(4), None);
    /// assert_eq!(Options::all().bits(), 3);
    /// ```
    pub struct Options {
        /// `CURLWS_RAW_MODE` (`1 << 0`): no framing at all; the connection
        /// carries the application's bytes as they are.
        const RAW_MODE = 1 << 0;
        /// `CURLWS_NOAUTOPONG` (`1 << 1`): PINGs go to the application,
        /// which answers them itself.
        const NOAUTOPONG = 1 << 1;
    }
}

impl Flags {
    /// The frame types: TEXT, BINARY, CLOSE, PING, PONG.
    pub const TYPES: Flags =
        Flags(Flags::TEXT.0 | Flags::BINARY.0 | Flags::CLOSE.0 | Flags::PING.0 | Flags::PONG.0);
    /// The control frame types: CLOSE, PING, PONG.
    pub const CONTROL: Flags = Flags(Flags::CLOSE.0 | Flags::PING.0 | Flags::PONG.0);

    /// Whether this is a control frame (CLOSE, PING or PONG).
    pub const fn is_control(self) -> bool {
        self.intersects(Flags::CONTROL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_libcurls() {
        // include/curl/websockets.h (curl 8.22).
        let table = [
            (Flags::TEXT, 1 << 0),
            (Flags::BINARY, 1 << 1),
            (Flags::CONT, 1 << 2),
            (Flags::CLOSE, 1 << 3),
            (Flags::PING, 1 << 4),
            (Flags::OFFSET, 1 << 5),
            (Flags::PONG, 1 << 6),
        ];
        for (flag, bits) in table {
            assert_eq!(flag.bits(), bits, "{flag:?}");
            assert_eq!(Flags::from_bits(bits), Some(flag));
        }
        assert_eq!(Options::RAW_MODE.bits(), 1);
        assert_eq!(Options::NOAUTOPONG.bits(), 2);
        assert_eq!(Flags::all().bits(), 0x7f);
    }

    #[test]
    fn unknown_bits_are_refused_truncated_or_kept_on_request() {
        assert_eq!(Flags::from_bits(0x81), None);
        assert_eq!(Flags::from_bits_truncate(0x81), Flags::TEXT);
        assert_eq!(Flags::from_bits_retain(0x81).bits(), 0x81);
        assert_eq!(Options::from_bits(0), Some(Options::empty()));
    }

    #[test]
    fn set_operations() {
        let mut flags = Flags::BINARY;
        flags |= Flags::CONT;
        assert!(flags.contains(Flags::BINARY | Flags::CONT));
        assert!(!flags.contains(Flags::BINARY | Flags::TEXT));
        assert!(flags.intersects(Flags::BINARY | Flags::TEXT));
        flags -= Flags::CONT;
        assert_eq!(flags, Flags::BINARY);
        assert_eq!(!Flags::all(), Flags::empty());
        assert_eq!((!Flags::TEXT).bits(), 0x7e);
        let mut both = Flags::TEXT | Flags::PING;
        both &= Flags::CONTROL;
        assert_eq!(both, Flags::PING);
        assert!(both.is_control() && !Flags::TEXT.is_control());
        assert!(Flags::default().is_empty());
    }

    #[test]
    fn debug_names_the_flags_and_hex_prints_the_number() {
        assert_eq!(format!("{:?}", Flags::empty()), "Flags(empty)");
        assert_eq!(format!("{:?}", Flags::PONG), "Flags(PONG)");
        assert_eq!(
            format!("{:?}", Flags::from_bits_retain(0x105)),
            "Flags(TEXT | CONT | 0x100)"
        );
        assert_eq!(
            format!("{:?}", Options::all()),
            "Options(RAW_MODE | NOAUTOPONG)"
        );
        assert_eq!(format!("{:#x}", Flags::TEXT | Flags::CONT), "0x5");
        assert_eq!(format!("{:#b}", Flags::CLOSE), "0b1000");
        assert_eq!(format!("{:X}", Flags::PONG), "40");
    }
}
