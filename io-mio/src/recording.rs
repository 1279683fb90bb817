//! Recording a driver's core object into a file (see `tase2_core::record`); shared with the
//! tokio driver in `tase2-driver-util`.

pub use tase2_driver_util::record_file;
pub(crate) use tase2_driver_util::IdleFlush;
