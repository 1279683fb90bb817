//! Just enough DER to read a certificate's subject (RFC 5280 §4.1): every read is bounds-checked
//! and a malformed certificate gives `None`, never a panic.

/// A bounds-checked cursor over DER.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// The next TLV: its tag and contents.
    fn tlv(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let len = if first < 0x80 {
            first as usize
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let (octets, r) = rest.split_at(n);
            rest = r;
            octets.iter().fold(0usize, |a, b| (a << 8) | *b as usize)
        };
        if rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Some((tag, value))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.tlv()? {
            (t, v) if t == tag => Some(v),
            _ => None,
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// The subject of a DER certificate as `TYPE=value` pairs joined by `, ` in the certificate's
/// order, and its (last) common name.
pub(crate) fn subject(cert: &[u8]) -> Option<(String, Option<String>)> {
    let mut outer = Reader(Reader(cert).expect(SEQUENCE)?);
    let mut tbs = Reader(outer.expect(SEQUENCE)?);
    let (mut tag, _) = tbs.tlv()?;
    if tag == 0xa0 {
        // [0] EXPLICIT version: then the serial number.
        tag = tbs.tlv()?.0;
    }
    if tag != 0x02 {
        return None;
    }
    tbs.expect(SEQUENCE)?; // signature algorithm
    tbs.expect(SEQUENCE)?; // issuer
    tbs.expect(SEQUENCE)?; // validity
    let mut name = Reader(tbs.expect(SEQUENCE)?);
    let mut parts = Vec::new();
    let mut cn = None;
    while !name.is_empty() {
        let mut rdn = Reader(name.expect(SET)?);
        while !rdn.is_empty() {
            let mut atv = Reader(rdn.expect(SEQUENCE)?);
            let oid = atv.expect(OID)?;
            let (vtag, value) = atv.tlv()?;
            let value = string(vtag, value)?;
            let key = attribute_name(oid);
            if key == "CN" {
                cn = Some(value.clone());
            }
            parts.push(format!("{key}={value}"));
        }
    }
    Some((parts.join(", "), cn))
}

/// A directory string's text (UTF8String, PrintableString, IA5String, T61String as Latin-1,
/// BMPString).
fn string(tag: u8, v: &[u8]) -> Option<String> {
    match tag {
        0x0c | 0x13 | 0x16 => String::from_utf8(v.to_vec()).ok(),
        0x14 => Some(v.iter().map(|b| *b as char).collect()),
        0x1e if v.len() % 2 == 0 => {
            let units: Vec<u16> = v
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => Some(v.iter().map(|b| format!("{b:02x}")).collect()),
    }
}

/// The short name of an X.520 attribute, else its dotted OID.
fn attribute_name(oid: &[u8]) -> String {
    match oid {
        [0x55, 0x04, 0x03] => "CN".into(),
        [0x55, 0x04, 0x06] => "C".into(),
        [0x55, 0x04, 0x07] => "L".into(),
        [0x55, 0x04, 0x08] => "ST".into(),
        [0x55, 0x04, 0x0a] => "O".into(),
        [0x55, 0x04, 0x0b] => "OU".into(),
        [0x55, 0x04, 0x05] => "serialNumber".into(),
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC".into(),
        _ => dotted(oid),
    }
}

fn dotted(oid: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut acc: u64 = 0;
    for &b in oid {
        acc = (acc << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (acc / 40).min(2);
                arcs.push(first);
                arcs.push(acc - first * 40);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        }
    }
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_input_is_none_not_a_panic() {
        for n in 0..8 {
            assert!(subject(&[0x30, 0x82, 0x01, 0x00, 0x30, 0x03, 0x02][..n]).is_none());
        }
        assert_eq!(dotted(&[0x2a, 0x86, 0x48]), "1.2.840");
    }
}
