//! A LLaMA-style decoder on tch: token embeddings, pre-norm blocks of rotary causal
//! self-attention and a SwiGLU MLP, a final RMSNorm and an untied LM head. Parameter names and
//! shapes are Hugging Face's `LlamaForCausalLM`, so its checkpoints load as they are.

use super::config::LlamaConfig;
use std::cell::Cell;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

/// Labels equal to this are left out of the loss (Hugging Face's convention).
pub const IGNORE_INDEX: i64 = -100;

#[derive(Debug)]
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(vs: nn::Path, size: i64, eps: f64) -> Self {
        RmsNorm {
            weight: vs.ones("weight", &[size]),
            eps,
        }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        // In f32 whatever the parameter dtype, as Hugging Face computes it.
        let dtype = xs.kind();
        let x = xs.to_kind(Kind::Float);
        let var = x.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
        let x = x * (var + self.eps).rsqrt();
        &self.weight * x.to_kind(dtype)
    }
}

/// Rotary position embedding tables (`rotate_half` form, as Hugging Face's LLaMA).
#[derive(Debug)]
struct Rotary {
    cos: Tensor,
    sin: Tensor,
}

impl Rotary {
    fn new(cfg: &LlamaConfig, device: tch::Device) -> Self {
        let dim = cfg.head_dim();
        let inv_freq = Tensor::arange_start_step(0, dim, 2, (Kind::Float, device))
            .to_kind(Kind::Double)
            .divide_scalar(dim as f64);
        let inv_freq = Tensor::from(cfg.rope_theta)
            .to_device(device)
            .pow(&inv_freq)
            .reciprocal()
            .to_kind(Kind::Float);
        let t = Tensor::arange(cfg.max_position_embeddings, (Kind::Float, device));
        let freqs = t.outer(&inv_freq);
        let emb = Tensor::cat(&[&freqs, &freqs], -1);
        Rotary {
            cos: emb.cos(),
            sin: emb.sin(),
        }
    }

    /// Rotates `x` of shape [batch, heads, seq, head_dim].
    fn apply(&self, x: &Tensor, seq: i64) -> Tensor {
        let cos = self.cos.narrow(0, 0, seq).to_kind(x.kind());
        let sin = self.sin.narrow(0, 0, seq).to_kind(x.kind());
        let half = x.size()[3] / 2;
        let x1 = x.narrow(-1, 0, half);
        let x2 = x.narrow(-1, half, half);
        let rotated = Tensor::cat(&[&x2.neg(), &x1], -1);
        x * cos + rotated * sin
    }
}

#[derive(Debug)]
struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
    n_heads: i64,
    n_kv_heads: i64,
    head_dim: i64,
}

impl Attention {
    fn new(vs: nn::Path, cfg: &LlamaConfig) -> Self {
        let (h, kv) = (cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim());
        Attention {
            q_proj: linear(&vs / "q_proj", h, h),
            k_proj: linear(&vs / "k_proj", h, kv),
            v_proj: linear(&vs / "v_proj", h, kv),
            o_proj: linear(&vs / "o_proj", h, h),
            n_heads: cfg.num_attention_heads,
            n_kv_heads: cfg.num_key_value_heads,
            head_dim: cfg.head_dim(),
        }
    }

    fn forward(&self, xs: &Tensor, rotary: &Rotary, compute: Kind) -> Tensor {
        let (b, t, h) = xs.size3().expect("hidden states are [batch, seq, hidden]");
        let heads = |x: Tensor, n: i64| x.view([b, t, n, self.head_dim]).transpose(1, 2);
        let q = rotary.apply(&heads(self.q_proj.forward(xs, compute), self.n_heads), t);
        let k = rotary.apply(&heads(self.k_proj.forward(xs, compute), self.n_kv_heads), t);
        let v = heads(self.v_proj.forward(xs, compute), self.n_kv_heads);
        let gqa = self.n_kv_heads != self.n_heads;
        let y =
            Tensor::scaled_dot_product_attention(&q, &k, &v, None::<Tensor>, 0.0, true, None, gqa);
        self.o_proj
            .forward(&y.transpose(1, 2).contiguous().view([b, t, h]), compute)
    }
}

#[derive(Debug)]
struct Mlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

impl Mlp {
    fn new(vs: nn::Path, cfg: &LlamaConfig) -> Self {
        let (h, i) = (cfg.hidden_size, cfg.intermediate_size);
        Mlp {
            gate_proj: linear(&vs / "gate_proj", h, i),
            up_proj: linear(&vs / "up_proj", h, i),
            down_proj: linear(&vs / "down_proj", i, h),
        }
    }

    fn forward(&self, xs: &Tensor, compute: Kind) -> Tensor {
        let gated = self.gate_proj.forward(xs, compute).silu() * self.up_proj.forward(xs, compute);
        self.down_proj.forward(&gated, compute)
    }
}

#[derive(Debug)]
struct DecoderLayer {
    self_attn: Attention,
    mlp: Mlp,
    input_layernorm: RmsNorm,
    post_attention_layernorm: RmsNorm,
}

impl DecoderLayer {
    fn new(vs: nn::Path, cfg: &LlamaConfig) -> Self {
        DecoderLayer {
            self_attn: Attention::new(&vs / "self_attn", cfg),
            mlp: Mlp::new(&vs / "mlp", cfg),
            input_layernorm: RmsNorm::new(
                &vs / "input_layernorm",
                cfg.hidden_size,
                cfg.rms_norm_eps,
            ),
            post_attention_layernorm: RmsNorm::new(
                &vs / "post_attention_layernorm",
                cfg.hidden_size,
                cfg.rms_norm_eps,
            ),
        }
    }

    fn forward(&self, xs: &Tensor, rotary: &Rotary, compute: Kind) -> Tensor {
        let xs = xs
            + self
                .self_attn
                .forward(&self.input_layernorm.forward(xs), rotary, compute);
        &xs + self
            .mlp
            .forward(&self.post_attention_layernorm.forward(&xs), compute)
    }
}

/// `LlamaForCausalLM`: its variables live in the `nn::VarStore` it was built on.
#[derive(Debug)]
pub struct Llama {
    pub config: LlamaConfig,
    embed_tokens: nn::Embedding,
    layers: Vec<DecoderLayer>,
    norm: RmsNorm,
    lm_head: Option<Linear>,
    rotary: Rotary,
    /// The dtype matmuls and attention run in; `None` = the parameters' own (see
    /// [`Llama::set_compute_kind`]).
    compute: Cell<Option<Kind>>,
}

impl Llama {
    /// Builds the model's variables under `vs`: norms are ones, matrices zero until
    /// `Model::init` fills them from a seed (or a checkpoint replaces them).
    pub fn new(vs: &nn::Path, config: &LlamaConfig) -> Llama {
        let model = vs / "model";
        let emb_cfg = nn::EmbeddingConfig {
            ws_init: init(),
            ..Default::default()
        };
        let embed_tokens = nn::embedding(
            &model / "embed_tokens",
            config.vocab_size,
            config.hidden_size,
            emb_cfg,
        );
        let layers = (0..config.num_hidden_layers)
            .map(|l| DecoderLayer::new(&model / "layers" / l, config))
            .collect();
        let norm = RmsNorm::new(&model / "norm", config.hidden_size, config.rms_norm_eps);
        let lm_head = (!config.tie_word_embeddings)
            .then(|| linear(vs / "lm_head", config.hidden_size, config.vocab_size));
        Llama {
            config: config.clone(),
            embed_tokens,
            layers,
            norm,
            lm_head,
            rotary: Rotary::new(config, vs.device()),
            compute: Cell::new(None),
        }
    }

    /// Runs matmuls and attention in `kind` (bf16 on CUDA, as the reference's autocast does)
    /// while the parameters keep their dtype; norms and the loss stay in f32. `None` computes
    /// in the parameters' dtype.
    pub fn set_compute_kind(&self, kind: Option<Kind>) {
        self.compute.set(kind);
    }

    /// Logits [batch, seq, vocab] for token ids [batch, seq].
    pub fn forward(&self, input_ids: &Tensor) -> Tensor {
        let compute = self.compute.get().unwrap_or(self.embed_tokens.ws.kind());
        let mut xs = self.embed_tokens.forward(input_ids).to_kind(compute);
        for layer in &self.layers {
            xs = layer.forward(&xs, &self.rotary, compute);
        }
        let xs = self.norm.forward(&xs);
        match &self.lm_head {
            Some(head) => head.forward(&xs, compute),
            None => xs
                .to_kind(compute)
                .matmul(&self.embed_tokens.ws.to_kind(compute).tr()),
        }
    }

    /// Mean causal-LM cross-entropy of predicting each next token, in f32; positions whose
    /// label is `pad_id` are left out, as the reference masks pad (= EOS) tokens.
    pub fn loss(&self, input_ids: &Tensor, pad_id: Option<i64>) -> Tensor {
        let logits = self.forward(input_ids);
        let (b, t, v) = logits.size3().expect("logits are [batch, seq, vocab]");
        let mut labels = input_ids.shallow_clone();
        if let Some(pad) = pad_id {
            labels = labels.masked_fill(&input_ids.eq(pad), IGNORE_INDEX);
        }
        let logits = logits
            .narrow(1, 0, t - 1)
            .to_kind(Kind::Float)
            .reshape([b * (t - 1), v]);
        let labels = labels.narrow(1, 1, t - 1).reshape([b * (t - 1)]);
        logits.cross_entropy_loss::<Tensor>(&labels, None, tch::Reduction::Mean, IGNORE_INDEX, 0.0)
    }
}

fn init() -> nn::Init {
    nn::Init::Const(0.0)
}

/// A bias-free linear layer (Hugging Face's `weight` [out, in]).
#[derive(Debug)]
struct Linear {
    weight: Tensor,
}

impl Linear {
    /// `x · Wᵀ` computed in `compute` (the weight stays in its own dtype, as under autocast).
    fn forward(&self, xs: &Tensor, compute: Kind) -> Tensor {
        if self.weight.kind() == compute {
            xs.to_kind(compute).matmul(&self.weight.tr())
        } else {
            xs.to_kind(compute)
                .matmul(&self.weight.to_kind(compute).tr())
        }
    }
}

fn linear(vs: nn::Path, input: i64, output: i64) -> Linear {
    Linear {
        weight: vs.var("weight", &[output, input], init()),
    }
}
