//! The embedded default model `tase2 serve` runs without a configuration file.

use tase2_core::mms::{
    BitString, Data, Float, ObjectName, StructComponent, TypeDescription, TypeSpecification,
};
use tase2_core::server::{Identity, NamedVariableList, Variable, Vmd};

fn desc(t: TypeDescription) -> TypeSpecification {
    TypeSpecification::Description(t)
}

fn structure(components: Vec<(&str, TypeDescription)>) -> TypeDescription {
    TypeDescription::Structure {
        packed: false,
        components: components
            .into_iter()
            .map(|(n, t)| StructComponent {
                name: Some(n.into()),
                type_spec: desc(t),
            })
            .collect(),
    }
}

const FLOAT32: TypeDescription = TypeDescription::FloatingPoint {
    format_width: 32,
    exponent_width: 8,
};

/// TASE.2 Data_RealQTimeTag: { Value FLOAT32, TimeStamp INT32, Flags BIT STRING(8) }.
pub fn real_q_time_tag() -> TypeDescription {
    structure(vec![
        ("Value", FLOAT32),
        ("TimeStamp", TypeDescription::Integer(32)),
        ("Flags", TypeDescription::BitString(8)),
    ])
}

/// Point `n`'s initial value: Value n × 1.5, TimeStamp 1700000000 + n, Flags 0.
pub fn point_value(n: u32) -> Data {
    Data::Structure(vec![
        Data::Float(Float::F32(n as f32 * 1.5)),
        Data::Integer(1_700_000_000 + i64::from(n)),
        Data::BitString(BitString {
            octets: vec![0],
            bits: 8,
        }),
    ])
}

fn points(d: &mut tase2_core::server::Domain, count: u32) {
    for n in 1..=count {
        d.variables.insert(
            format!("Point_{n:04}"),
            Variable::read_only(real_q_time_tag(), point_value(n)),
        );
    }
}

/// The default model: VCC objects, domains ICC1 (400 points) and ICC2 (10 points).
pub fn default_model() -> Vmd {
    let mut vmd = Vmd {
        identity: Identity {
            model: "tase2".into(),
            ..Identity::default()
        },
        ..Vmd::default()
    };
    let int16 = TypeDescription::Integer(16);
    vmd.variables.insert(
        "TASE2_Version".into(),
        Variable::read_only(
            structure(vec![
                ("MajorVersionNumber", int16.clone()),
                ("MinorVersionNumber", int16),
            ]),
            Data::Structure(vec![Data::Integer(2000), Data::Integer(8)]),
        ),
    );
    // No TASE.2 conformance block is implemented yet, so no bit is claimed.
    vmd.variables.insert(
        "Supported_Features".into(),
        Variable::read_only(
            TypeDescription::BitString(12),
            Data::BitString(BitString {
                octets: vec![0, 0],
                bits: 12,
            }),
        ),
    );
    vmd.variables.insert(
        "Report_Trigger".into(),
        Variable::writable(TypeDescription::Boolean, Data::Boolean(false)),
    );
    vmd.variables.insert(
        "Report_Counter".into(),
        Variable::read_only(TypeDescription::Integer(32), Data::Integer(0)),
    );
    vmd.lists.insert(
        "Vcc_Report".into(),
        NamedVariableList {
            members: vec![
                ObjectName::vmd("TASE2_Version"),
                ObjectName::vmd("Report_Counter"),
            ],
            deletable: false,
        },
    );

    let blt = |s: &str| {
        Variable::read_only(
            TypeDescription::VisibleString(32),
            Data::VisibleString(s.into()),
        )
    };
    let icc1 = vmd.domain_mut("ICC1");
    icc1.variables
        .insert("Bilateral_Table_ID".into(), blt("BLT_ICC1"));
    points(icc1, 400);
    icc1.variables.insert(
        "Setpoint_Real".into(),
        Variable::writable(FLOAT32, Data::Float(Float::F32(0.0))),
    );
    icc1.variables.insert(
        "Setpoint_Discrete".into(),
        Variable::writable(TypeDescription::Integer(32), Data::Integer(0)),
    );
    icc1.variables.insert(
        "Nested".into(),
        Variable::writable(
            structure(vec![
                ("A", TypeDescription::Integer(16)),
                (
                    "B",
                    structure(vec![
                        ("C", TypeDescription::Boolean),
                        ("D", TypeDescription::VisibleString(32)),
                    ]),
                ),
                (
                    "E",
                    TypeDescription::Array {
                        packed: false,
                        number_of_elements: 3,
                        element_type: Box::new(desc(TypeDescription::Unsigned(8))),
                    },
                ),
            ]),
            Data::Structure(vec![
                Data::Integer(-5),
                Data::Structure(vec![
                    Data::Boolean(true),
                    Data::VisibleString("hello".into()),
                ]),
                Data::Array(vec![
                    Data::Unsigned(1),
                    Data::Unsigned(2),
                    Data::Unsigned(3),
                ]),
            ]),
        ),
    );
    icc1.lists.insert(
        "DS_Predefined".into(),
        NamedVariableList {
            members: (1..=5)
                .map(|n| ObjectName::domain("ICC1", format!("Point_{n:04}")))
                .collect(),
            deletable: false,
        },
    );
    let icc2 = vmd.domain_mut("ICC2");
    icc2.variables
        .insert("Bilateral_Table_ID".into(), blt("BLT_ICC2"));
    points(icc2, 10);
    vmd
}
