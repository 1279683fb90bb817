//! What [`crate::WasmSession`] and [`crate::WasmFailover`] share: the command methods (one
//! macro, so both classes offer the same surface to JavaScript) and the names of pending reads.

use tase2_core::mms::ObjectName;
use tase2_core::tase2::client::{Command, OpId, SessionEvent};
use tase2_core::tase2::PointType;
#[cfg(feature = "methods")]
use tase2_core::tase2::{Command as DeviceCommand, ControlValue};

use crate::events;

/// A control word (`on`/`close`/`raise`/`1`, `off`/`trip`/`open`/`lower`/`0`) as a value.
#[cfg(feature = "methods")]
pub(crate) fn control_word(value: &str) -> Result<ControlValue, String> {
    DeviceCommand::parse(value)
        .map(ControlValue::Command)
        .ok_or_else(|| format!("unknown command value \"{value}\" (on/close or off/trip)"))
}

/// The names each pending `read_points` asked for, to name its results (a few at a time: a Vec,
/// where a map would add its own code to the wasm).
#[derive(Debug, Default)]
pub(crate) struct Reads(Vec<(u64, Vec<ObjectName>)>);

impl Reads {
    /// The names `command` reads, to hand to [`Self::started`] once it has an id.
    pub(crate) fn names(command: &Command) -> Option<Vec<ObjectName>> {
        match command {
            Command::ReadPoints { names } => Some(names.clone()),
            _ => None,
        }
    }

    /// Operation `id` reads `names` (from [`Self::names`]).
    pub(crate) fn started(&mut self, id: OpId, names: Option<Vec<ObjectName>>) {
        if let Some(names) = names {
            self.0.push((id.0, names));
        }
    }

    /// `e` as JSON; `point_type` gives what the session knows of a name, to type a read's
    /// results.
    pub(crate) fn json(
        &mut self,
        e: &SessionEvent,
        point_type: impl Fn(&ObjectName) -> Option<PointType>,
    ) -> String {
        let names = match e {
            SessionEvent::Done { op, .. } => match self.0.iter().position(|(id, _)| *id == op.0) {
                Some(i) => self.0.swap_remove(i).1,
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut types = Vec::with_capacity(names.len());
        for n in &names {
            types.push(point_type(n));
        }
        events::json(e, &names, &types)
    }
}

/// The command methods of a class with `fn start(&mut self, now_ms: f64, command: Command) ->
/// f64` (the op id as a JS number).
macro_rules! command_methods {
    ($t:ty) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $t {
            /// Start any command given as JSON (`{"command": "read_points", "names":
            /// ["ICC1/P1"]}`; see the crate docs); returns its op id, which its `done` event
            /// carries. Throws on JSON that is not a command.
            pub fn command(&mut self, now_ms: f64, json: &str) -> Result<f64, String> {
                let c = $crate::commands::parse(json)?;
                Ok(self.start(now_ms, c))
            }
        }

        // The shorthands behind the default feature `methods`: each `#[wasm_bindgen]` method
        // brings its own glue, so the browser package (no default features) leaves them out and
        // its page sends every command as JSON.
        #[cfg(feature = "methods")]
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $t {
            /// Version, features, VCC variables and each visible domain's table id, variables
            /// (with their TASE.2 types) and data sets → `{"kind": "discovery"}`.
            pub fn discover(&mut self, now_ms: f64) -> f64 {
                self.start(now_ms, Command::Discover)
            }

            /// Read points in one Read (`"ICC1/P1"`, `"Freq"`) → `{"kind": "points"}`.
            pub fn read_points(&mut self, now_ms: f64, names: Vec<String>) -> f64 {
                let names = names.iter().map(|n| object_name(n)).collect();
                self.start(now_ms, Command::ReadPoints { names })
            }

            /// Reserve a transfer set of `domain` and start it with `value` (JSON: `data_set`
            /// required, every other field optional, `conditions` as names) →
            /// `{"kind": "transfer_set"}`.
            pub fn reserve_and_start(
                &mut self,
                now_ms: f64,
                domain: &str,
                value: &str,
            ) -> Result<f64, String> {
                let value = $crate::commands::parse_transfer_set_value(value)?;
                Ok(self.start(
                    now_ms,
                    Command::ReserveAndStart {
                        domain: domain.into(),
                        value,
                    },
                ))
            }

            /// Stop a transfer set → `{"kind": "unit"}`.
            pub fn stop_transfer_set(&mut self, now_ms: f64, transfer_set: &str) -> f64 {
                let transfer_set = object_name(transfer_set);
                self.start(now_ms, Command::StopTransferSet { transfer_set })
            }

            /// Receive information messages (`true`) or stop them → `{"kind": "unit"}`.
            pub fn enable_info_messages(&mut self, now_ms: f64, enable: bool) -> f64 {
                self.start(now_ms, Command::InfoMessages { enable })
            }

            /// What a device is → `{"kind": "device"}`.
            pub fn device_info(&mut self, now_ms: f64, device: &str) -> f64 {
                let device = object_name(device);
                self.start(now_ms, Command::DeviceInfo { device })
            }

            /// Select a device (read of `<Device>_SBO`) → `{"kind": "check_back_id"}`.
            pub fn select(&mut self, now_ms: f64, device: &str) -> f64 {
                let device = object_name(device);
                self.start(now_ms, Command::Select { device })
            }

            /// Operate a command device with `on`/`close`/`raise`/`1` or
            /// `off`/`trip`/`open`/`lower`/`0` → `{"kind": "unit"}`. Throws on another word.
            pub fn operate(
                &mut self,
                now_ms: f64,
                device: &str,
                value: &str,
            ) -> Result<f64, String> {
                let value = $crate::methods::control_word(value)?;
                let device = object_name(device);
                Ok(self.start(now_ms, Command::Operate { device, value }))
            }

            /// Operate a real setpoint → `{"kind": "unit"}`.
            pub fn operate_real(&mut self, now_ms: f64, device: &str, value: f32) -> f64 {
                let device = object_name(device);
                let value = ControlValue::Real(value);
                self.start(now_ms, Command::Operate { device, value })
            }

            /// Operate a discrete setpoint → `{"kind": "unit"}`.
            pub fn operate_discrete(&mut self, now_ms: f64, device: &str, value: i16) -> f64 {
                let device = object_name(device);
                let value = ControlValue::Discrete(value);
                self.start(now_ms, Command::Operate { device, value })
            }

            /// Select, then operate a command device (words as for `operate`) →
            /// `{"kind": "check_back_id"}` of the select.
            pub fn select_operate(
                &mut self,
                now_ms: f64,
                device: &str,
                value: &str,
            ) -> Result<f64, String> {
                let value = $crate::methods::control_word(value)?;
                let device = object_name(device);
                Ok(self.start(now_ms, Command::SelectOperate { device, value }))
            }

            /// Read a device's tag → `{"kind": "tag"}`.
            pub fn tag(&mut self, now_ms: f64, device: &str) -> f64 {
                let device = object_name(device);
                self.start(now_ms, Command::Tag { device })
            }

            /// Set a device's tag (`none`, `open-and-close`, `close-only`) with a reason →
            /// `{"kind": "unit"}`. Throws on another tag word.
            pub fn set_tag(
                &mut self,
                now_ms: f64,
                device: &str,
                tag: &str,
                reason: &str,
            ) -> Result<f64, String> {
                let value = TagValue::parse(tag).ok_or_else(|| {
                    format!("unknown tag \"{tag}\" (none, open-and-close, close-only)")
                })?;
                let device = object_name(device);
                let reason = reason.into();
                Ok(self.start(
                    now_ms,
                    Command::SetTag {
                        device,
                        value,
                        reason,
                    },
                ))
            }
        }
    };
}
pub(crate) use command_methods;
