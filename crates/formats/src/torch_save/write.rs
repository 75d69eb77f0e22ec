//! Writes `torch.save` archives that PyTorch loads with `weights_only=True`: a pickle of
//! protocol 2 made only of what the reader here accepts (dicts, lists, tuples, plain values,
//! dtypes and contiguous tensors), and a stored zip with PyTorch's entry names and 64-byte
//! aligned storages.

use safetensors::Dtype;

/// A value to save.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Dtype(Dtype),
    /// A contiguous tensor: its dtype, shape and little-endian elements.
    Tensor {
        dtype: Dtype,
        shape: Vec<u64>,
        data: Vec<u8>,
    },
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }
}

fn storage_name(d: Dtype) -> &'static str {
    match d {
        Dtype::F64 => "DoubleStorage",
        Dtype::F16 => "HalfStorage",
        Dtype::BF16 => "BFloat16Storage",
        Dtype::I64 => "LongStorage",
        Dtype::I32 => "IntStorage",
        Dtype::I16 => "ShortStorage",
        Dtype::I8 => "CharStorage",
        Dtype::U8 => "ByteStorage",
        Dtype::BOOL => "BoolStorage",
        _ => "FloatStorage",
    }
}

fn dtype_name(d: Dtype) -> &'static str {
    match d {
        Dtype::F64 => "float64",
        Dtype::F16 => "float16",
        Dtype::BF16 => "bfloat16",
        Dtype::I64 => "int64",
        Dtype::I32 => "int32",
        Dtype::I16 => "int16",
        Dtype::I8 => "int8",
        Dtype::U8 => "uint8",
        Dtype::BOOL => "bool",
        _ => "float32",
    }
}

struct Pickler {
    out: Vec<u8>,
    storages: Vec<Vec<u8>>,
}

impl Pickler {
    fn global(&mut self, module: &str, name: &str) {
        self.out.push(b'c');
        self.out
            .extend_from_slice(format!("{module}\n{name}\n").as_bytes());
    }

    fn str(&mut self, s: &str) {
        self.out.push(b'X');
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
    }

    fn int(&mut self, i: i64) {
        match i {
            0..=0xFF => self.out.extend_from_slice(&[b'K', i as u8]),
            0x100..=0xFFFF => {
                self.out.push(b'M');
                self.out.extend_from_slice(&(i as u16).to_le_bytes());
            }
            _ if i32::try_from(i).is_ok() => {
                self.out.push(b'J');
                self.out.extend_from_slice(&(i as i32).to_le_bytes());
            }
            _ => {
                self.out.extend_from_slice(&[0x8a, 8]);
                self.out.extend_from_slice(&i.to_le_bytes());
            }
        }
    }

    fn ints(&mut self, v: &[u64]) {
        if v.is_empty() {
            self.out.push(b')');
            return;
        }
        self.out.push(b'(');
        for &x in v {
            self.int(x as i64);
        }
        self.out.push(b't');
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::None => self.out.push(b'N'),
            Value::Bool(b) => self.out.push(if *b { 0x88 } else { 0x89 }),
            Value::Int(i) => self.int(*i),
            Value::Float(f) => {
                self.out.push(b'G');
                self.out.extend_from_slice(&f.to_be_bytes());
            }
            Value::Str(s) => self.str(s),
            Value::Tuple(items) if items.is_empty() => self.out.push(b')'),
            Value::Tuple(items) => {
                self.out.push(b'(');
                items.iter().for_each(|i| self.value(i));
                self.out.push(b't');
            }
            Value::List(items) => {
                self.out.push(b']');
                if !items.is_empty() {
                    self.out.push(b'(');
                    items.iter().for_each(|i| self.value(i));
                    self.out.push(b'e');
                }
            }
            Value::Dict(items) => {
                self.out.push(b'}');
                if !items.is_empty() {
                    self.out.push(b'(');
                    for (k, v) in items {
                        self.value(k);
                        self.value(v);
                    }
                    self.out.push(b'u');
                }
            }
            Value::Dtype(d) => self.global("torch", dtype_name(*d)),
            Value::Tensor { dtype, shape, data } => {
                let key = self.storages.len().to_string();
                let elem = super::dtype_size(*dtype);
                self.storages.push(data.clone());
                self.global("torch._utils", "_rebuild_tensor_v2");
                self.out.push(b'(');
                self.out.push(b'(');
                self.str("storage");
                self.global("torch", storage_name(*dtype));
                self.str(&key);
                self.str("cpu");
                self.int((data.len() / elem) as i64);
                self.out.extend_from_slice(b"tQ");
                self.int(0);
                self.ints(shape);
                let mut stride = vec![0u64; shape.len()];
                let mut step = 1;
                for (s, &d) in stride.iter_mut().zip(shape).rev() {
                    *s = step;
                    step *= d.max(1);
                }
                self.ints(&stride);
                self.out.push(0x89);
                self.global("collections", "OrderedDict");
                self.out.extend_from_slice(b")Rt");
                self.out.push(b'R');
            }
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, t) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    !bytes.iter().fold(!0u32, |c, &b| {
        table[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// The archive `torch.save(value)` would write, its entries under `name/`.
pub fn save(value: &Value, name: &str) -> Vec<u8> {
    let mut p = Pickler {
        out: vec![0x80, 2],
        storages: Vec::new(),
    };
    p.value(value);
    p.out.push(b'.');
    let mut entries: Vec<(String, Vec<u8>)> = vec![
        (format!("{name}/data.pkl"), p.out),
        (format!("{name}/byteorder"), b"little".to_vec()),
    ];
    for (i, s) in p.storages.into_iter().enumerate() {
        entries.push((format!("{name}/data/{i}"), s));
    }
    entries.push((format!("{name}/version"), b"3\n".to_vec()));

    let mut out = Vec::new();
    let mut central = Vec::new();
    for (entry, data) in &entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        // Pad the local header's extra field so that the data starts at a multiple of 64.
        let header = 30 + entry.len();
        let pad = (64 - (out.len() + header + 4) % 64) % 64;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(entry.len() as u16).to_le_bytes());
        out.extend_from_slice(&((pad + 4) as u16).to_le_bytes());
        out.extend_from_slice(entry.as_bytes());
        out.extend_from_slice(&0x4246u16.to_le_bytes());
        out.extend_from_slice(&(pad as u16).to_le_bytes());
        out.resize(out.len() + pad, 0);
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(entry.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(entry.as_bytes());
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}
