//! The TASE.2 quality octet `Data_Flags` (IEC 60870-6-802): named accessors instead of bits.
//!
//! Bit 0 is the most significant bit of the octet, as in the MMS BIT STRING that carries it.

/// The two state bits of a `Data_State` point (bits 0-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum StateValue {
    /// 00: between (transit).
    Between,
    /// 01: off / tripped / open.
    Off,
    /// 10: on / closed.
    On,
    /// 11: invalid.
    Invalid,
}

/// Validity (bits 2-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Validity {
    /// 00.
    Valid,
    /// 01: held (not updated, last good value).
    Held,
    /// 10: suspect.
    Suspect,
    /// 11: not valid.
    NotValid,
}

/// Current source (bits 4-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CurrentSource {
    /// 00.
    Telemetered,
    /// 01.
    Calculated,
    /// 10: entered manually.
    Entered,
    /// 11.
    Estimated,
}

/// A `Data_Flags` octet.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Flags(pub u8);

impl Flags {
    /// Valid, telemetered, normal, good timestamp, state "between".
    pub const VALID: Flags = Flags(0);

    fn field(self, shift: u8) -> u8 {
        (self.0 >> shift) & 0b11
    }

    fn with_field(self, shift: u8, v: u8) -> Flags {
        Flags((self.0 & !(0b11 << shift)) | ((v & 0b11) << shift))
    }

    /// The state bits (meaningful for `Data_State` points).
    pub fn state(self) -> StateValue {
        match self.field(6) {
            0 => StateValue::Between,
            1 => StateValue::Off,
            2 => StateValue::On,
            _ => StateValue::Invalid,
        }
    }

    /// With the state bits set.
    pub fn with_state(self, s: StateValue) -> Flags {
        self.with_field(6, s as u8)
    }

    /// Validity.
    pub fn validity(self) -> Validity {
        match self.field(4) {
            0 => Validity::Valid,
            1 => Validity::Held,
            2 => Validity::Suspect,
            _ => Validity::NotValid,
        }
    }

    /// With the validity set.
    pub fn with_validity(self, v: Validity) -> Flags {
        self.with_field(4, v as u8)
    }

    /// Current source.
    pub fn source(self) -> CurrentSource {
        match self.field(2) {
            0 => CurrentSource::Telemetered,
            1 => CurrentSource::Calculated,
            2 => CurrentSource::Entered,
            _ => CurrentSource::Estimated,
        }
    }

    /// With the current source set.
    pub fn with_source(self, s: CurrentSource) -> Flags {
        self.with_field(2, s as u8)
    }

    /// Normal value bit (bit 6): set when the point is off-normal.
    pub fn off_normal(self) -> bool {
        self.0 & 0b10 != 0
    }

    /// With the off-normal bit.
    pub fn with_off_normal(self, v: bool) -> Flags {
        Flags(if v { self.0 | 0b10 } else { self.0 & !0b10 })
    }

    /// Timestamp quality bit (bit 7): set when the timestamp is invalid.
    pub fn timestamp_invalid(self) -> bool {
        self.0 & 1 != 0
    }

    /// With the timestamp-invalid bit.
    pub fn with_timestamp_invalid(self, v: bool) -> Flags {
        Flags(if v { self.0 | 1 } else { self.0 & !1 })
    }
}

impl core::fmt::Display for Flags {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let v = match self.validity() {
            Validity::Valid => "valid",
            Validity::Held => "held",
            Validity::Suspect => "suspect",
            Validity::NotValid => "not-valid",
        };
        let s = match self.source() {
            CurrentSource::Telemetered => "telemetered",
            CurrentSource::Calculated => "calculated",
            CurrentSource::Entered => "entered",
            CurrentSource::Estimated => "estimated",
        };
        write!(f, "{v},{s}")?;
        if self.off_normal() {
            f.write_str(",off-normal")?;
        }
        if self.timestamp_invalid() {
            f.write_str(",ts-invalid")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_standard_layout() {
        // 10 (on) 10 (suspect) 01 (calculated) 1 (off-normal) 1 (ts invalid)
        let f = Flags::VALID
            .with_state(StateValue::On)
            .with_validity(Validity::Suspect)
            .with_source(CurrentSource::Calculated)
            .with_off_normal(true)
            .with_timestamp_invalid(true);
        assert_eq!(f.0, 0b1010_0111);
        assert_eq!(f.state(), StateValue::On);
        assert_eq!(f.validity(), Validity::Suspect);
        assert_eq!(f.source(), CurrentSource::Calculated);
        assert!(f.off_normal() && f.timestamp_invalid());
        let g = f.with_validity(Validity::Valid).with_off_normal(false);
        assert_eq!(g.0, 0b1000_0101);
        assert_eq!(Flags(0b0100_0000).state(), StateValue::Off);
        assert_eq!(Flags(0b0000_1100).source(), CurrentSource::Estimated);
    }
}
