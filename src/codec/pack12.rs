//! 12-bit index packing of the later reference variant: two indices in three bytes,
//! `[a low 8][a high 4 | b low 4 << 4][b high 8]`.

use tch::{Kind, Tensor};

/// Packs int64 indices < 4096 of shape [..., k] (k even) into uint8 [..., 3k/2].
pub fn pack(idx: &Tensor) -> Tensor {
    let mut shape = idx.size();
    let k = *shape.last().expect("indices have a last dimension");
    let pairs = idx.to_kind(Kind::Int64).reshape([-1, 2]);
    let a = pairs.select(1, 0);
    let b = pairs.select(1, 1);
    let b0 = a.bitwise_and(0xFF);
    let b1 = a
        .bitwise_right_shift_tensor_scalar(8)
        .bitwise_and(0x0F)
        .bitwise_or_tensor(&b.bitwise_and(0x0F).bitwise_left_shift_tensor_scalar(4));
    let b2 = b.bitwise_right_shift_tensor_scalar(4).bitwise_and(0xFF);
    let packed = Tensor::stack(&[b0, b1, b2], 1).to_kind(Kind::Uint8);
    *shape.last_mut().expect("non-empty") = k / 2 * 3;
    packed.reshape(shape.as_slice())
}

/// The inverse of `pack`: uint8 [..., 3k/2] into int64 [..., k].
pub fn unpack(packed: &Tensor) -> Tensor {
    let mut shape = packed.size();
    let bytes = *shape.last().expect("packed indices have a last dimension");
    let t = packed.to_kind(Kind::Int64).reshape([-1, 3]);
    let (b0, b1, b2) = (t.select(1, 0), t.select(1, 1), t.select(1, 2));
    let a = b0.bitwise_or_tensor(&b1.bitwise_and(0x0F).bitwise_left_shift_tensor_scalar(8));
    let b = b1
        .bitwise_right_shift_tensor_scalar(4)
        .bitwise_or_tensor(&b2.bitwise_left_shift_tensor_scalar(4));
    *shape.last_mut().expect("non-empty") = bytes / 3 * 2;
    Tensor::stack(&[a, b], 1).reshape(shape.as_slice())
}
