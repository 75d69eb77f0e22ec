//! The readers of everything a peer uploads that is parsed before any tensor library sees it:
//! safetensors headers and `torch.save` archives (zip container, allow-list unpickler), and the
//! checks on a gradient's values that follow (index ranges, repeats, finiteness, codes). Each
//! failure is a named [`Reject`]; nothing panics, nothing is executed, and no allocation is
//! sized by what the file declares. Kept apart from the rest of gauntlet (no libtorch) so that
//! the fuzz targets in `fuzz/` build and run fast.

pub mod gradient;
pub mod reference;
pub mod reject;
pub mod safetensors;
pub mod torch_save;

pub use reject::Reject;
