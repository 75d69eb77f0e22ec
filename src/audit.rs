//! One peer explained: for each window, what every stage found and how its weight follows.

use crate::config::HyperParams;
use crate::record::Record;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct Explained {
    pub window: u64,
    pub uid: u16,
    /// (figure, value and where it came from), in the order the stages produced them.
    pub figures: Vec<(String, String)>,
    pub record: Record,
}

pub fn explain(r: &Record, h: &HyperParams) -> Explained {
    let mut f: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| f.push((k.to_string(), v));
    add(
        "status",
        match &r.reason {
            Some(why) => format!("{} — {why}", r.status),
            None => r.status.to_string(),
        },
    );
    if let Some(s) = r.stake {
        add("stake", format!("{s}"));
    }
    if let Some(o) = &r.object {
        add(
            "upload",
            format!(
                "{} ({} bytes, sha256 {}) at {}",
                o.key,
                o.size.unwrap_or(0),
                o.sha256.as_deref().unwrap_or("?"),
                o.uploaded_at.map_or("?".to_string(), |t| t.to_string())
            ),
        );
    }
    if let Some(s) = &r.sync {
        add(
            "sync",
            format!(
                "{:.3} steps behind ({}), score (1 − min(x, {})/{})^{} = {:.4}",
                s.steps_behind,
                s.method.as_deref().unwrap_or("mean"),
                h.sync_score_max_steps,
                h.sync_score_max_steps,
                h.sync_score_exponent,
                s.score
            ),
        );
    }
    if let Some(e) = &r.eval {
        add(
            "loss on random pages",
            format!("{:.6} → {:.6}", e.rand_before, e.rand_after),
        );
        add(
            "loss on own pages",
            format!("{:.6} → {:.6}", e.own_before, e.own_after),
        );
        add(
            "score (LossScore)",
            format!("(rand_before − rand_after) / rand_before = {:.6e}", e.score),
        );
        let own = (e.own_before - e.own_after) / e.own_before;
        add(
            "indicator",
            format!(
                "{:+} (own-page improvement {own:.6e} {} score {:.6e})",
                e.indicator,
                if e.indicator > 0 { ">" } else { "≤" },
                e.score
            ),
        );
    }
    if let Some(x) = &r.rating {
        add(
            "rating",
            format!(
                "mu {:.4}, sigma {:.4}, ordinal mu − 3·sigma = {:.4}",
                x.mu, x.sigma, x.ordinal
            ),
        );
        add(
            "BMA",
            format!(
                "{:.4} (moving average of the indicator, α = {})",
                x.bma, h.binary_score_ma_alpha
            ),
        );
        let sync = r.sync.as_ref().map(|s| s.score);
        add(
            "final",
            match sync {
                Some(s) if r.eval.is_some() => format!(
                    "ordinal × max(0, BMA) × sync = {:.4} × {:.4} × {:.4} = {:.6}",
                    x.ordinal,
                    x.bma.max(0.0),
                    s,
                    x.final_score
                ),
                _ => format!(
                    "{:.6} (carried over, after this window's slashes)",
                    x.final_score
                ),
            },
        );
        if let Some(w) = r.weight {
            let p = h.power_normalisation;
            let text = if w > 0.0 && x.final_score > 0.0 {
                let total = x.final_score.powf(p) / w;
                format!(
                    "final^{p} / Σ final^{p} over positive finals = {:.6e} / {total:.6e} = {w:.6}",
                    x.final_score.powf(p)
                )
            } else {
                format!("{w} (final ≤ 0 gets no weight)")
            };
            add("weight", text);
        }
    } else if let Some(w) = r.weight {
        add("weight", format!("{w} (never rated)"));
    }
    Explained {
        window: r.window,
        uid: r.uid,
        figures: f,
        record: r.clone(),
    }
}
