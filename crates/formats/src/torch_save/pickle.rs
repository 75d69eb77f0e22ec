//! An allow-list unpickler: it reads what `torch.save` writes for tensors, dicts, lists,
//! tuples and plain values, and nothing else. It never imports or calls anything: a global is
//! a name compared against a short list (tensor rebuild, storage types, OrderedDict, dtypes),
//! and every other global or opcode is a named refusal.
//!
//! Objects live in an arena and the memo holds arena ids, as Python's memo holds references,
//! so sharing costs nothing while the opcodes run. Memory is bounded by design, never by what
//! the file declares: the pickle itself is capped ([`MAX_PICKLE_BYTES`]), the machine spends
//! a fixed few bytes per opcode byte (arena and stack reserved once, 4-byte ids, immutable
//! constants shared), and the tree read out ([`Unpickled::tree`]) is charged in bytes against
//! [`MAX_TREE_BYTES`], counting a shared value each time it appears, with a depth limit that
//! also catches a structure containing itself.

use crate::Reject;
use safetensors::Dtype;

/// Deepest nesting a file may use: a gradient's is 4 (dict, dict, tuple, tensor).
pub const MAX_DEPTH: usize = 32;
/// The largest pickle read: a 70B model's gradient pickle is about 250 KB, a 1B model's 60 KB.
pub const MAX_PICKLE_BYTES: usize = 4 << 20;
/// Most bytes the tree read out of a pickle may take, counting a shared value each time it
/// appears (a 1B model's gradient tree is under 1 MB).
pub const MAX_TREE_BYTES: usize = 64 << 20;
/// A global's module or name longer than this is refused (the allowed ones are short).
const MAX_GLOBAL_NAME: usize = 64;

/// An arena id.
type Id = u32;
/// The stack's MARK, an id no arena reaches (the arena holds at most one object per byte).
const MARK: Id = Id::MAX;
/// The shared immutable constants, at fixed places in every arena.
const NONE: Id = 0;
const TRUE: Id = 1;
const FALSE: Id = 2;
const EMPTY_TUPLE: Id = 3;

/// A storage a tensor views: its dtype, its entry in the archive and its element count.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageRef {
    pub dtype: Dtype,
    pub key: String,
    pub numel: u64,
}

/// A tensor as `_rebuild_tensor_v2` describes it: a view of a storage.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorRef {
    pub storage: StorageRef,
    pub offset: u64,
    pub shape: Vec<u64>,
    pub stride: Vec<u64>,
}

/// An allowed global.
#[derive(Clone, Debug, PartialEq)]
enum Global {
    RebuildTensorV2,
    OrderedDict,
    StorageType(Dtype),
}

/// An object of the arena; the large variants are boxed so each entry stays 32 bytes.
#[derive(Clone, Debug, PartialEq)]
enum Obj {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Tuple(Box<[Id]>),
    List(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Global(Global),
    Dtype(Dtype),
    Storage(Box<StorageRef>),
    Tensor(Box<TensorRef>),
}

/// A value read out of the pickle, owning its children.
#[derive(Clone, Debug, PartialEq)]
pub enum Tree {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<Tree>),
    List(Vec<Tree>),
    Dict(Vec<(Tree, Tree)>),
    Dtype(Dtype),
    Tensor(TensorRef),
}

impl Tree {
    /// The value under a string key of a dict.
    pub fn get(&self, key: &str) -> Option<&Tree> {
        match self {
            Tree::Dict(items) => items
                .iter()
                .find(|(k, _)| matches!(k, Tree::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Tree::None => "None",
            Tree::Bool(_) => "a bool",
            Tree::Int(_) => "an int",
            Tree::Float(_) => "a float",
            Tree::Str(_) => "a string",
            Tree::Tuple(_) => "a tuple",
            Tree::List(_) => "a list",
            Tree::Dict(_) => "a dict",
            Tree::Dtype(_) => "a dtype",
            Tree::Tensor(_) => "a tensor",
        }
    }
}

/// The storage dtype a `torch.*Storage` global names.
fn storage_dtype(name: &str) -> Option<Dtype> {
    Some(match name {
        "FloatStorage" => Dtype::F32,
        "DoubleStorage" => Dtype::F64,
        "HalfStorage" => Dtype::F16,
        "BFloat16Storage" => Dtype::BF16,
        "LongStorage" => Dtype::I64,
        "IntStorage" => Dtype::I32,
        "ShortStorage" => Dtype::I16,
        "CharStorage" => Dtype::I8,
        "ByteStorage" => Dtype::U8,
        "BoolStorage" => Dtype::BOOL,
        _ => return None,
    })
}

/// The dtype a `torch.<dtype>` global names.
fn dtype_object(name: &str) -> Option<Dtype> {
    Some(match name {
        "float32" | "float" => Dtype::F32,
        "float64" | "double" => Dtype::F64,
        "float16" | "half" => Dtype::F16,
        "bfloat16" => Dtype::BF16,
        "int64" | "long" => Dtype::I64,
        "int32" | "int" => Dtype::I32,
        "int16" | "short" => Dtype::I16,
        "int8" => Dtype::I8,
        "uint8" => Dtype::U8,
        "bool" => Dtype::BOOL,
        _ => return None,
    })
}

fn opcode_name(op: u8) -> &'static str {
    match op {
        b'i' => "INST",
        b'o' => "OBJ",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        b'b' => "BUILD",
        b'P' => "PERSID",
        0x82..=0x84 => "EXT",
        b'S' | b'T' | b'U' => "STRING",
        b'B' | b'C' | 0x8e => "BYTES",
        b'I' | b'L' | b'F' => "a text-protocol number",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "unknown",
    }
}

struct Machine<'a> {
    code: &'a [u8],
    at: usize,
    arena: Vec<Obj>,
    /// Arena ids, and [`MARK`]s whose positions `marks` keeps.
    stack: Vec<Id>,
    marks: Vec<usize>,
    /// Arena ids by memo key; a key is below the pickle's length (each PUT takes a byte).
    memo: Vec<Id>,
    /// Entries written, the key MEMOIZE takes (Python's `len(memo)`).
    memo_len: u32,
}

fn bad(why: impl Into<String>) -> Reject {
    Reject::BadPickle { why: why.into() }
}

/// The object an allowed global names; every other global is refused.
fn resolve_global(module: &str, name: &str) -> Result<Obj, Reject> {
    Ok(match (module, name) {
        ("torch._utils", "_rebuild_tensor_v2") => Obj::Global(Global::RebuildTensorV2),
        ("collections", "OrderedDict") => Obj::Global(Global::OrderedDict),
        ("torch", n) if storage_dtype(n).is_some() => {
            Obj::Global(Global::StorageType(storage_dtype(n).expect("checked")))
        }
        ("torch", n) if dtype_object(n).is_some() => Obj::Dtype(dtype_object(n).expect("checked")),
        _ => {
            let clip = |s: &str| s.chars().take(MAX_GLOBAL_NAME).collect::<String>();
            return Err(Reject::ForbiddenGlobal {
                name: format!("{}.{}", clip(module), clip(name)),
            });
        }
    })
}

impl<'a> Machine<'a> {
    fn new(code: &'a [u8]) -> Machine<'a> {
        // Reserved once: growing by doubling could double the peak.
        let mut arena = Vec::with_capacity(code.len() + 4);
        arena.extend([
            Obj::None,
            Obj::Bool(true),
            Obj::Bool(false),
            Obj::Tuple(Box::new([])),
        ]);
        Machine {
            code,
            at: 0,
            arena,
            stack: Vec::with_capacity(code.len()),
            marks: Vec::new(),
            memo: Vec::new(),
            memo_len: 0,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Reject> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.code.len())
            .ok_or_else(|| {
                bad(format!(
                    "truncated at byte {} (wanted {n} more bytes)",
                    self.at
                ))
            })?;
        let s = &self.code[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, Reject> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, Reject> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, Reject> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn line(&mut self) -> Result<&'a str, Reject> {
        let rest = &self.code[self.at..];
        let n = rest
            .iter()
            .take(MAX_GLOBAL_NAME + 1)
            .position(|&b| b == b'\n')
            .ok_or_else(|| {
                bad(format!(
                    "a GLOBAL name at byte {} is not terminated within {MAX_GLOBAL_NAME} bytes",
                    self.at
                ))
            })?;
        let s = std::str::from_utf8(&rest[..n])
            .map_err(|_| bad(format!("a GLOBAL name at byte {} is not UTF-8", self.at)))?;
        self.at += n + 1;
        Ok(s)
    }

    fn text(&mut self, n: usize) -> Result<Box<str>, Reject> {
        let at = self.at;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(Box::from)
            .map_err(|_| bad(format!("the string at byte {at} is not UTF-8")))
    }

    /// A new object on the stack (at most one per opcode, so within the reserved arena).
    fn push(&mut self, o: Obj) {
        self.arena.push(o);
        self.stack.push((self.arena.len() - 1) as Id);
    }

    fn pop(&mut self) -> Result<Id, Reject> {
        match self.stack.pop() {
            Some(MARK) => Err(bad(format!(
                "a MARK where a value was expected (byte {})",
                self.at
            ))),
            Some(id) => Ok(id),
            None => Err(bad(format!("the stack is empty at byte {}", self.at))),
        }
    }

    fn top(&self) -> Result<Id, Reject> {
        match self.stack.last() {
            Some(&id) if id != MARK => Ok(id),
            _ => Err(bad(format!("no value on the stack at byte {}", self.at))),
        }
    }

    fn obj(&self, id: Id) -> &Obj {
        &self.arena[id as usize]
    }

    fn mark(&mut self) {
        self.marks.push(self.stack.len());
        self.stack.push(MARK);
    }

    /// The values above the topmost MARK, which is removed.
    fn pop_mark(&mut self) -> Result<Vec<Id>, Reject> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| bad(format!("no MARK to close at byte {}", self.at)))?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<Id>, Reject> {
        let mut v = (0..n).map(|_| self.pop()).collect::<Result<Vec<_>, _>>()?;
        v.reverse();
        Ok(v)
    }

    fn tuple(&mut self, items: Vec<Id>) {
        if items.is_empty() {
            self.stack.push(EMPTY_TUPLE);
        } else {
            self.push(Obj::Tuple(items.into_boxed_slice()));
        }
    }

    fn memo_put(&mut self, key: u32) -> Result<(), Reject> {
        let id = self.top()?;
        let key = key as usize;
        if key >= self.code.len() {
            return Err(bad(format!(
                "memo key {key} at byte {} is beyond what a {}-byte pickle writes",
                self.at,
                self.code.len()
            )));
        }
        if key >= self.memo.len() {
            self.memo.resize(key + 1, MARK);
        }
        if self.memo[key] == MARK {
            self.memo_len += 1;
        }
        self.memo[key] = id;
        Ok(())
    }

    fn memo_get(&mut self, key: u32) -> Result<(), Reject> {
        let id = self
            .memo
            .get(key as usize)
            .copied()
            .filter(|&id| id != MARK)
            .ok_or_else(|| bad(format!("memo entry {key} is read before it is written")))?;
        self.stack.push(id);
        Ok(())
    }

    fn int(&self, id: Id, what: &str) -> Result<i64, Reject> {
        match self.obj(id) {
            Obj::Int(i) => Ok(*i),
            Obj::Bool(b) => Ok(*b as i64),
            _ => Err(bad(format!("{what} is not an int"))),
        }
    }

    /// A tensor's size or stride: at most 8 non-negative ints.
    fn dims(&self, id: Id, what: &str) -> Result<Vec<u64>, Reject> {
        match self.obj(id) {
            Obj::Tuple(items) if items.len() > 8 => Err(bad(format!(
                "{what} has {} dimensions (at most 8 are read)",
                items.len()
            ))),
            Obj::Tuple(items) => items
                .iter()
                .map(|&i| {
                    u64::try_from(self.int(i, what)?)
                        .map_err(|_| bad(format!("{what} is negative")))
                })
                .collect(),
            _ => Err(bad(format!("{what} is not a tuple"))),
        }
    }

    /// The tuple `id` holds, if it is one.
    fn tuple_items(&self, id: Id) -> Option<&[Id]> {
        match self.obj(id) {
            Obj::Tuple(items) => Some(items),
            _ => None,
        }
    }

    fn persistent(&mut self) -> Result<(), Reject> {
        let pid = self.pop()?;
        let parts = self
            .tuple_items(pid)
            .ok_or_else(|| bad("a persistent id that is not a tuple"))?;
        let &[tag, ty, key, _location, numel] = parts else {
            return Err(bad(format!(
                "a persistent id of {} parts, not 5",
                parts.len()
            )));
        };
        if !matches!(self.obj(tag), Obj::Str(s) if &**s == "storage") {
            return Err(bad("a persistent id that is not a storage"));
        }
        let Obj::Global(Global::StorageType(dtype)) = *self.obj(ty) else {
            return Err(bad("a storage whose type is not a torch storage type"));
        };
        let Obj::Str(key) = self.obj(key) else {
            return Err(bad("a storage whose key is not a string"));
        };
        if key.is_empty()
            || key.len() > MAX_GLOBAL_NAME
            || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            let shown: String = key.chars().take(MAX_GLOBAL_NAME).collect();
            return Err(bad(format!(
                "the storage key {shown:?} is not a plain name"
            )));
        }
        let numel = u64::try_from(self.int(numel, "a storage's size")?)
            .map_err(|_| bad("a storage of negative size"))?;
        let s = StorageRef {
            dtype,
            key: key.to_string(),
            numel,
        };
        self.push(Obj::Storage(Box::new(s)));
        Ok(())
    }

    fn reduce(&mut self) -> Result<(), Reject> {
        let args = self.pop()?;
        let f = self.pop()?;
        let args = self
            .tuple_items(args)
            .ok_or_else(|| bad("REDUCE arguments that are not a tuple"))?;
        let obj = match self.obj(f) {
            Obj::Global(Global::OrderedDict) => {
                if !args.is_empty() {
                    return Err(bad("OrderedDict called with arguments"));
                }
                Obj::Dict(Vec::new())
            }
            Obj::Global(Global::RebuildTensorV2) => {
                if !(6..=7).contains(&args.len()) {
                    return Err(bad(format!(
                        "_rebuild_tensor_v2 with {} arguments",
                        args.len()
                    )));
                }
                let Obj::Storage(storage) = self.obj(args[0]) else {
                    return Err(bad("_rebuild_tensor_v2 of something that is not a storage"));
                };
                let offset = u64::try_from(self.int(args[1], "a tensor's storage offset")?)
                    .map_err(|_| bad("a negative storage offset"))?;
                let shape = self.dims(args[2], "a tensor's size")?;
                let stride = self.dims(args[3], "a tensor's stride")?;
                if shape.len() != stride.len() {
                    return Err(bad(format!(
                        "a tensor of {} dimensions with {} strides",
                        shape.len(),
                        stride.len()
                    )));
                }
                Obj::Tensor(Box::new(TensorRef {
                    storage: (**storage).clone(),
                    offset,
                    shape,
                    stride,
                }))
            }
            other => {
                return Err(bad(format!(
                    "REDUCE on {}: only tensors and OrderedDicts are rebuilt",
                    describe(other)
                )))
            }
        };
        self.push(obj);
        Ok(())
    }

    fn append(&mut self, list: Id, items: Vec<Id>) -> Result<(), Reject> {
        match &mut self.arena[list as usize] {
            Obj::List(v) => {
                v.extend(items);
                Ok(())
            }
            other => Err(bad(format!("APPEND to {}", describe(other)))),
        }
    }

    fn set_items(&mut self, dict: Id, items: Vec<Id>) -> Result<(), Reject> {
        if !items.len().is_multiple_of(2) {
            return Err(bad("SETITEMS with an odd number of values"));
        }
        match &mut self.arena[dict as usize] {
            Obj::Dict(v) => {
                v.extend(items.chunks(2).map(|p| (p[0], p[1])));
                Ok(())
            }
            other => Err(bad(format!("SETITEM on {}", describe(other)))),
        }
    }

    fn step(&mut self) -> Result<bool, Reject> {
        let at = self.at;
        let op = self.byte()?;
        match op {
            0x80 => {
                let v = self.byte()?;
                if v > 5 {
                    return Err(bad(format!("pickle protocol {v}")));
                }
            }
            0x95 => {
                self.take(8)?;
            }
            b'.' => return Ok(false),
            b'(' => self.mark(),
            b'}' => self.push(Obj::Dict(Vec::new())),
            b']' => self.push(Obj::List(Vec::new())),
            b')' => self.stack.push(EMPTY_TUPLE),
            b't' => {
                let items = self.pop_mark()?;
                self.tuple(items);
            }
            0x85..=0x87 => {
                let items = self.pop_n((op - 0x84) as usize)?;
                self.tuple(items);
            }
            b'l' => {
                let items = self.pop_mark()?;
                self.push(Obj::List(items));
            }
            b'd' => {
                let items = self.pop_mark()?;
                self.push(Obj::Dict(Vec::new()));
                let d = self.top()?;
                self.set_items(d, items)?;
            }
            b'a' => {
                let item = self.pop()?;
                let list = self.top()?;
                self.append(list, vec![item])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                let list = self.top()?;
                self.append(list, items)?;
            }
            b's' => {
                let items = self.pop_n(2)?;
                let dict = self.top()?;
                self.set_items(dict, items)?;
            }
            b'u' => {
                let items = self.pop_mark()?;
                let dict = self.top()?;
                self.set_items(dict, items)?;
            }
            b'q' => {
                let k = self.byte()? as u32;
                self.memo_put(k)?;
            }
            b'r' => {
                let k = self.u32()?;
                self.memo_put(k)?;
            }
            0x94 => {
                let k = self.memo_len;
                self.memo_put(k)?;
            }
            b'h' => {
                let k = self.byte()? as u32;
                self.memo_get(k)?;
            }
            b'j' => {
                let k = self.u32()?;
                self.memo_get(k)?;
            }
            b'J' => {
                let v = i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
                self.push(Obj::Int(v as i64));
            }
            b'K' => {
                let v = self.byte()?;
                self.push(Obj::Int(v as i64));
            }
            b'M' => {
                let v = self.u16()?;
                self.push(Obj::Int(v as i64));
            }
            0x8a => {
                let n = self.byte()? as usize;
                if n > 8 {
                    return Err(bad(format!("an integer of {n} bytes at byte {at}")));
                }
                let b = self.take(n)?;
                let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                    [0xFF; 8]
                } else {
                    [0; 8]
                };
                buf[..n].copy_from_slice(b);
                self.push(Obj::Int(i64::from_le_bytes(buf)));
            }
            b'G' => {
                let v = f64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes"));
                self.push(Obj::Float(v));
            }
            b'N' => self.stack.push(NONE),
            0x88 => self.stack.push(TRUE),
            0x89 => self.stack.push(FALSE),
            b'X' => {
                let n = self.u32()? as usize;
                let s = self.text(n)?;
                self.push(Obj::Str(s));
            }
            0x8c => {
                let n = self.byte()? as usize;
                let s = self.text(n)?;
                self.push(Obj::Str(s));
            }
            b'c' => {
                let module = self.line()?;
                let name = self.line()?;
                let g = resolve_global(module, name)?;
                self.push(g);
            }
            0x93 => {
                let name = self.pop()?;
                let module = self.pop()?;
                let g = match (self.obj(module), self.obj(name)) {
                    (Obj::Str(m), Obj::Str(n)) => resolve_global(m, n)?,
                    _ => return Err(bad("STACK_GLOBAL of something that is not two strings")),
                };
                self.push(g);
            }
            b'R' => self.reduce()?,
            b'Q' => self.persistent()?,
            b'0' => {
                if self.stack.pop() == Some(MARK) {
                    self.marks.pop();
                }
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let id = self.top()?;
                self.stack.push(id);
            }
            other => {
                return Err(Reject::ForbiddenOpcode {
                    opcode: format!("0x{other:02x} ({})", opcode_name(other)),
                    at: at as u64,
                })
            }
        }
        Ok(true)
    }
}

fn describe(o: &Obj) -> &'static str {
    match o {
        Obj::Global(_) => "a global",
        Obj::Tensor(_) => "a tensor",
        Obj::Storage(_) => "a storage",
        Obj::Dict(_) => "a dict",
        Obj::List(_) => "a list",
        Obj::Tuple(_) => "a tuple",
        _ => "a plain value",
    }
}

/// A pickle run to its STOP: the arena and the result's id.
pub struct Unpickled {
    arena: Vec<Obj>,
    root: Id,
}

/// Runs the allow-listed opcodes of `code` to its STOP.
pub fn unpickle(code: &[u8]) -> Result<Unpickled, Reject> {
    if code.len() > MAX_PICKLE_BYTES {
        return Err(bad(format!(
            "the pickle is {} bytes, over the {MAX_PICKLE_BYTES} any gradient or sync file needs",
            code.len()
        )));
    }
    let mut m = Machine::new(code);
    while m.step()? {}
    let root = m.pop()?;
    Ok(Unpickled {
        arena: m.arena,
        root,
    })
}

/// What a tree node costs against [`MAX_TREE_BYTES`]: its own size and what it owns.
fn node_bytes(o: &Obj) -> usize {
    std::mem::size_of::<Tree>()
        + match o {
            Obj::Str(s) => s.len(),
            Obj::Tensor(t) => t.storage.key.len() + 16 * t.shape.len(),
            Obj::Tuple(ids) => ids.len() * std::mem::size_of::<Tree>(),
            Obj::List(ids) => ids.len() * std::mem::size_of::<Tree>(),
            Obj::Dict(pairs) => pairs.len() * 2 * std::mem::size_of::<Tree>(),
            _ => 0,
        }
}

impl Unpickled {
    /// The result as an owned tree, refusing structures deeper than [`MAX_DEPTH`] (which
    /// includes any that contain themselves) or larger than [`MAX_TREE_BYTES`], a value
    /// counted each time it appears: the budget is charged before anything is copied.
    pub fn tree(&self) -> Result<Tree, Reject> {
        let mut budget = MAX_TREE_BYTES;
        self.node(self.root, 0, &mut budget)
    }

    fn node(&self, id: Id, depth: usize, budget: &mut usize) -> Result<Tree, Reject> {
        if depth > MAX_DEPTH {
            return Err(bad(format!(
                "the structure is nested deeper than {MAX_DEPTH} levels (or contains itself)"
            )));
        }
        let obj = &self.arena[id as usize];
        *budget = budget.checked_sub(node_bytes(obj)).ok_or_else(|| {
            bad(format!(
                "the structure would take more than {} MiB once read out (a value shared many times counts each time)",
                MAX_TREE_BYTES >> 20
            ))
        })?;
        let many = |ids: &[Id], budget: &mut usize| -> Result<Vec<Tree>, Reject> {
            ids.iter()
                .map(|&c| self.node(c, depth + 1, budget))
                .collect()
        };
        Ok(match obj {
            Obj::None => Tree::None,
            Obj::Bool(b) => Tree::Bool(*b),
            Obj::Int(i) => Tree::Int(*i),
            Obj::Float(f) => Tree::Float(*f),
            Obj::Str(s) => Tree::Str(s.to_string()),
            Obj::Tuple(ids) => Tree::Tuple(many(ids, budget)?),
            Obj::List(ids) => Tree::List(many(ids, budget)?),
            Obj::Dict(pairs) => Tree::Dict(
                pairs
                    .iter()
                    .map(|&(k, v)| {
                        Ok((
                            self.node(k, depth + 1, budget)?,
                            self.node(v, depth + 1, budget)?,
                        ))
                    })
                    .collect::<Result<_, Reject>>()?,
            ),
            Obj::Dtype(d) => Tree::Dtype(*d),
            Obj::Tensor(t) => Tree::Tensor((**t).clone()),
            Obj::Global(_) => return Err(bad("a bare global in the result")),
            Obj::Storage(_) => return Err(bad("a bare storage in the result")),
        })
    }
}
