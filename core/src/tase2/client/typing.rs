//! Point typing on the client side: from the MMS type a server announces (GetVariableAccessAttributes)
//! to a [`PointType`], liberally.
//!
//! The standard form matches first (components by position, names checked where both sides have
//! them). Failing that, two deviations seen in deployed servers are accepted when the component
//! names make the intent unambiguous, each raising a [`Deviation`]:
//!
//! - components in another order (`Value, Flags, TimeStamp`): matched by name
//!   ([`DeviationKind::PointComponentOrder`]);
//! - a state point with an integer `Value` component of at most 16 bits beside its `Flags`
//!   ([`DeviationKind::StateAsInteger`]): the integer is read with the codes of the two state bits
//!   (0 between, 1 off, 2 on, 3 invalid) and merged into the flags.
//!
//! Without component names nothing is reordered: a positional guess would be silent.

use alloc::vec::Vec;

use crate::deviation::DeviationKind;
use crate::mms::{BitString, Data, TypeDescription, TypeSpecification};
use crate::tase2::point::shape_eq;
use crate::tase2::{names, DsTransferSetValue, Edition, Family, PointType};

/// Where one component of the standard form comes from in the server's form.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    /// The server's component at this index.
    At(usize),
    /// The standard `Flags` built from the server's flags (at `flags`) with the state bits taken
    /// from its integer `Value` (at `value`).
    StateFlags { flags: usize, value: usize },
}

/// How a server's point structure maps onto the standard one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Per standard component, its source.
    sources: Vec<Source>,
    /// The number of components in the server's form.
    server_len: usize,
}

impl Layout {
    /// The server's value in the standard form, for [`PointType::decode_data`].
    pub(crate) fn to_standard(&self, d: &Data) -> Option<Data> {
        let Data::Structure(c) = d else { return None };
        if c.len() != self.server_len {
            return None;
        }
        let mut out = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            out.push(match s {
                Source::At(i) => c.get(*i)?.clone(),
                Source::StateFlags { flags, value } => {
                    let Data::BitString(b) = c.get(*flags)? else {
                        return None;
                    };
                    let state = match c.get(*value)? {
                        Data::Integer(v) if (0..=3).contains(v) => *v as u8,
                        Data::Unsigned(v) if *v <= 3 => *v as u8,
                        _ => return None,
                    };
                    let octet = b.octets.first().copied().unwrap_or(0);
                    Data::BitString(BitString {
                        octets: alloc::vec![(octet & 0x3f) | (state << 6)],
                        bits: b.bits,
                    })
                }
            });
        }
        Some(Data::Structure(out))
    }

    /// A standard-form value in the server's form, for writes.
    pub(crate) fn to_server(&self, d: Data) -> Option<Data> {
        let Data::Structure(c) = d else { return None };
        let mut out: Vec<Option<Data>> = alloc::vec![None; self.server_len];
        for (s, v) in self.sources.iter().zip(c) {
            match s {
                Source::At(i) => *out.get_mut(*i)? = Some(v),
                Source::StateFlags { flags, value } => {
                    let Data::BitString(b) = v else { return None };
                    let octet = b.octets.first().copied().unwrap_or(0);
                    *out.get_mut(*value)? = Some(Data::Integer(i64::from(octet >> 6)));
                    *out.get_mut(*flags)? = Some(Data::BitString(BitString {
                        octets: alloc::vec![octet & 0x3f],
                        bits: b.bits,
                    }));
                }
            }
        }
        let mut c = Vec::with_capacity(out.len());
        for v in out {
            c.push(v?);
        }
        Some(Data::Structure(c))
    }
}

/// What the client knows of one variable's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Typed {
    /// The point type, `None` when the variable is not a point.
    pub point: Option<PointType>,
    /// How to reorder the server's components, when they deviate from the standard order.
    pub layout: Option<Layout>,
}

impl Typed {
    /// Not a point.
    pub(crate) const NONE: Typed = Typed {
        point: None,
        layout: None,
    };

    /// Decode a value of this variable (server's form) as its point type.
    pub(crate) fn decode(&self, d: &Data) -> Option<crate::tase2::PointValue> {
        let t = self.point?;
        match &self.layout {
            Some(l) => t.decode_data(&l.to_standard(d)?),
            None => t.decode_data(d),
        }
    }

    /// Encode a point value in the server's form.
    pub(crate) fn encode(&self, v: &crate::tase2::PointValue) -> Option<Data> {
        let d = self.point?.to_data(v);
        match &self.layout {
            Some(l) => l.to_server(d),
            None => Some(d),
        }
    }
}

fn components(td: &TypeDescription) -> Option<Vec<(&str, &TypeDescription)>> {
    let TypeDescription::Structure { components, .. } = td else {
        return None;
    };
    let mut v = Vec::with_capacity(components.len());
    for c in components {
        match (&c.name, &c.type_spec) {
            (Some(n), TypeSpecification::Description(t)) => v.push((n.as_str(), t)),
            _ => return None,
        }
    }
    Some(v)
}

fn is_small_integer(t: &TypeDescription) -> bool {
    matches!(t, TypeDescription::Integer(w) | TypeDescription::Unsigned(w) if *w <= 16)
}

/// Type a variable from its MMS type: the point type and, for an accepted deviation, the layout
/// and what deviated. `name_says_standard` is true for the standard TASE.2 objects, which are
/// never points whatever their shape (`Transfer_Set_Time_Stamp` is an INT32 like a
/// `Data_Discrete`).
pub(crate) fn type_point(
    td: &TypeDescription,
    standard_object: bool,
) -> (Typed, Option<DeviationKind>) {
    if standard_object {
        return (Typed::NONE, None);
    }
    if let Some(p) = PointType::from_type_description(td) {
        return (
            Typed {
                point: Some(p),
                layout: None,
            },
            None,
        );
    }
    let Some(server) = components(td) else {
        return (Typed::NONE, None);
    };
    for p in PointType::all() {
        let standard_td = p.type_description();
        let Some(standard) = components(&standard_td) else {
            continue;
        };
        // Components matched by name, in any order.
        if standard.len() == server.len() {
            if let Some(sources) = sources_by_name(&standard, &server, None) {
                let layout = Layout {
                    sources,
                    server_len: server.len(),
                };
                return (
                    Typed {
                        point: Some(p),
                        layout: Some(layout),
                    },
                    Some(DeviationKind::PointComponentOrder),
                );
            }
        }
        // A state point with its state as an integer `Value` beside the flags.
        if matches!(p, PointType::Indication(Family::State, _))
            && server.len() == standard.len() + 1
        {
            let Some(value) = server
                .iter()
                .position(|(n, t)| *n == "Value" && is_small_integer(t))
            else {
                continue;
            };
            if let Some(sources) = sources_by_name(&standard, &server, Some(value)) {
                let layout = Layout {
                    sources,
                    server_len: server.len(),
                };
                return (
                    Typed {
                        point: Some(p),
                        layout: Some(layout),
                    },
                    Some(DeviationKind::StateAsInteger),
                );
            }
        }
    }
    (Typed::NONE, None)
}

/// Where each standard component is in the server's form, matched by name and shape; with
/// `state_value`, the standard `Flags` also takes its state from that server component.
// One loop for both deviations (not two collected iterator chains): smaller in the wasm.
fn sources_by_name(
    standard: &[(&str, &TypeDescription)],
    server: &[(&str, &TypeDescription)],
    state_value: Option<usize>,
) -> Option<Vec<Source>> {
    let mut sources = Vec::with_capacity(standard.len());
    for (n, t) in standard {
        let at = server
            .iter()
            .position(|(sn, st)| sn == n && shape_eq(t, st))?;
        sources.push(match state_value {
            Some(value) if *n == "Flags" => Source::StateFlags { flags: at, value },
            _ => Source::At(at),
        });
    }
    Some(sources)
}

/// Whether `name` is a standard TASE.2 object that is not a point.
pub fn is_standard_object(item: &str) -> bool {
    matches!(
        item,
        names::TRANSFER_SET_NAME
            | names::TRANSFER_SET_TIME_STAMP
            | names::DS_CONDITIONS_DETECTED
            | names::EVENT_CODE_DETECTED
            | names::TASE2_VERSION
            | names::SUPPORTED_FEATURES
            | names::BILATERAL_TABLE_ID
            | names::NEXT_DS_TRANSFER_SET
            | names::TRANSFER_REPORT_ACK
            | names::TRANSFER_REPORT_NACK
            | names::INFO_MESS_HEADER
    )
}

/// Type equality ignoring component names and string widths.
fn same_shape(a: &TypeDescription, b: &TypeDescription) -> bool {
    use TypeDescription as T;
    match (a, b) {
        (T::Structure { components: x, .. }, T::Structure { components: y, .. }) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| match (&p.type_spec, &q.type_spec) {
                        (TypeSpecification::Description(p), TypeSpecification::Description(q)) => {
                            same_shape(p, q)
                        }
                        _ => false,
                    })
        }
        (T::VisibleString(_), T::VisibleString(_)) => true,
        (T::Unsigned(_), T::Unsigned(_) | T::Integer(_)) => true,
        _ => a == b,
    }
}

/// The TASE.2 name of a standard object's type, when the variable named `item` has the MMS type
/// the standard gives it; `None` otherwise (a deviating type is shown as its MMS type, not
/// labelled by name alone).
pub fn standard_type_name(item: &str, td: &TypeDescription) -> Option<&'static str> {
    use TypeDescription as T;
    let two_ints = |td: &TypeDescription| match td {
        T::Structure { components, .. } => {
            components.len() == 2
                && components.iter().all(|c| {
                    matches!(
                        &c.type_spec,
                        TypeSpecification::Description(T::Integer(_) | T::Unsigned(_))
                    )
                })
        }
        _ => false,
    };
    let (label, fits) = match item {
        names::TASE2_VERSION => ("TASE2_Version", two_ints(td)),
        names::SUPPORTED_FEATURES => ("Supported_Features", matches!(td, T::BitString(_))),
        names::BILATERAL_TABLE_ID => (
            "Bilateral_Table_ID",
            matches!(td, T::VisibleString(_) | T::MmsString(_)),
        ),
        names::TRANSFER_SET_TIME_STAMP => ("GMTBasedS", *td == T::Integer(32)),
        names::DS_CONDITIONS_DETECTED => ("DSConditions", matches!(td, T::BitString(5))),
        names::EVENT_CODE_DETECTED => ("EventCode", *td == T::Integer(16)),
        names::NEXT_DS_TRANSFER_SET | names::TRANSFER_SET_NAME => (
            "ObjectName",
            same_shape(&crate::tase2::transfer_set::object_name_type(), td),
        ),
        _ => {
            if [Edition::V2000_08, Edition::V1996_08]
                .into_iter()
                .any(|e| same_shape(&DsTransferSetValue::type_description(e), td))
            {
                return Some("DSTransferSet");
            }
            return same_shape(&crate::tase2::transfer_set::object_name_type(), td)
                .then_some("ObjectName");
        }
    };
    fits.then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mms::StructComponent;
    use crate::tase2::{Flags, Form, StateValue, Value};

    fn comp(n: &str, t: TypeDescription) -> StructComponent {
        StructComponent {
            name: Some(n.into()),
            type_spec: TypeSpecification::Description(t),
        }
    }

    fn structure(c: Vec<StructComponent>) -> TypeDescription {
        TypeDescription::Structure {
            packed: false,
            components: c,
        }
    }

    const F32: TypeDescription = TypeDescription::FloatingPoint {
        format_width: 32,
        exponent_width: 8,
    };

    #[test]
    fn value_flags_timestamp_order_is_matched_by_name_and_raises_a_deviation() {
        let td = structure(alloc::vec![
            comp("Value", F32),
            comp("Flags", TypeDescription::BitString(8)),
            comp("TimeStamp", TypeDescription::Integer(32)),
        ]);
        let (t, dev) = type_point(&td, false);
        assert_eq!(
            t.point,
            Some(PointType::Indication(Family::Real, Form::QTimeTag))
        );
        assert_eq!(dev, Some(DeviationKind::PointComponentOrder));
        // The server's value {12.5, flags, 1700000000} reads as the standard point.
        let d = Data::Structure(alloc::vec![
            Data::Float(crate::mms::Float::F32(12.5)),
            Data::BitString(BitString {
                octets: alloc::vec![0b0000_1000],
                bits: 8
            }),
            Data::Integer(1_700_000_000),
        ]);
        let v = t.decode(&d).expect("decodes");
        assert_eq!(v.value, Value::Real(12.5));
        assert_eq!(v.flags, Flags(0b0000_1000));
        assert_eq!(v.timestamp.seconds, 1_700_000_000);
        // And a write goes back in the server's order.
        assert_eq!(t.encode(&v), Some(d));
    }

    #[test]
    fn a_state_as_an_8_bit_integer_is_merged_into_the_flags() {
        let td = structure(alloc::vec![
            comp("Value", TypeDescription::Integer(8)),
            comp("Flags", TypeDescription::BitString(8)),
            comp("TimeStamp", TypeDescription::Integer(32)),
        ]);
        let (t, dev) = type_point(&td, false);
        assert_eq!(
            t.point,
            Some(PointType::Indication(Family::State, Form::QTimeTag))
        );
        assert_eq!(dev, Some(DeviationKind::StateAsInteger));
        let d = Data::Structure(alloc::vec![
            Data::Integer(2),
            Data::BitString(BitString {
                octets: alloc::vec![0b0000_0100],
                bits: 8
            }),
            Data::Integer(1_700_000_001),
        ]);
        let v = t.decode(&d).expect("decodes");
        assert_eq!(v.value, Value::State(StateValue::On));
        assert_eq!(v.timestamp.seconds, 1_700_000_001);
        // An integer beyond the four state codes is not a state: no guess.
        let bad = Data::Structure(alloc::vec![
            Data::Integer(7),
            Data::BitString(BitString::default()),
            Data::Integer(0),
        ]);
        assert_eq!(t.decode(&bad), None);
    }

    #[test]
    fn unnamed_components_in_another_order_are_not_guessed() {
        let td = TypeDescription::Structure {
            packed: false,
            components: alloc::vec![
                StructComponent {
                    name: None,
                    type_spec: TypeSpecification::Description(F32)
                },
                StructComponent {
                    name: None,
                    type_spec: TypeSpecification::Description(TypeDescription::BitString(8))
                },
                StructComponent {
                    name: None,
                    type_spec: TypeSpecification::Description(TypeDescription::Integer(32))
                },
            ],
        };
        assert_eq!(type_point(&td, false), (Typed::NONE, None));
    }

    #[test]
    fn the_standard_form_raises_no_deviation_and_standard_objects_are_not_points() {
        let p = PointType::Indication(Family::Real, Form::QTimeTag);
        let (t, dev) = type_point(&p.type_description(), false);
        assert_eq!((t.point, dev), (Some(p), None));
        let (t, _) = type_point(&TypeDescription::Integer(32), true);
        assert_eq!(t.point, None);
    }

    #[test]
    fn standard_objects_are_labelled_only_when_their_type_matches() {
        use TypeDescription as T;
        assert_eq!(
            standard_type_name(names::TRANSFER_SET_TIME_STAMP, &T::Integer(32)),
            Some("GMTBasedS")
        );
        assert_eq!(
            standard_type_name(names::TRANSFER_SET_TIME_STAMP, &T::BinaryTime(true)),
            None
        );
        assert_eq!(
            standard_type_name(names::BILATERAL_TABLE_ID, &T::VisibleString(32)),
            Some("Bilateral_Table_ID")
        );
        assert_eq!(
            standard_type_name(names::BILATERAL_TABLE_ID, &T::Integer(32)),
            None
        );
        assert_eq!(
            standard_type_name(
                "DSTrans1",
                &DsTransferSetValue::type_description(Edition::V1996_08)
            ),
            Some("DSTransferSet")
        );
    }
}
