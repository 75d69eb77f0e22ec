//! The validator's hotkey, from a Bittensor wallet folder
//! (`WALLET_PATH/NAME/hotkeys/HOTKEY`, as btcli lays it out).
//!
//! The file is plain JSON written by `bittensor-wallet` (mode 0600). A file others can read,
//! an encrypted file, or one whose derived address disagrees with its own `ss58Address` is
//! refused with what to do. The secret never leaves this module: errors name the file, never
//! its contents.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use subxt_signer::sr25519::Keypair;

/// Where a hotkey lives: btcli's `--wallet-name`, `--wallet-hotkey`, `--wallet-path`.
#[derive(Clone, Debug, PartialEq)]
pub struct WalletRef {
    pub path: PathBuf,
    pub name: String,
    pub hotkey: String,
}

impl WalletRef {
    pub fn hotkey_file(&self) -> PathBuf {
        expand_home(&self.path)
            .join(&self.name)
            .join("hotkeys")
            .join(&self.hotkey)
    }
}

/// `~/…` against `$HOME`.
pub fn expand_home(p: &Path) -> PathBuf {
    match (p.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => p.to_path_buf(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    secret_seed: Option<String>,
    secret_phrase: Option<String>,
    ss58_address: Option<String>,
}

/// A validator's hotkey: its ss58 address (prefix 42) and account, and the keypair where it
/// was loaded from a wallet (a hotkey known by its address only can be shown, not sign).
pub struct Hotkey {
    keypair: Option<Keypair>,
    pub ss58: String,
    pub account: [u8; 32],
}

impl std::fmt::Debug for Hotkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hotkey({})", self.ss58)
    }
}

impl Hotkey {
    /// A hotkey known by its ss58 address only: enough to read its weight rules and show the
    /// calls it would send (`commit --dry-run`), not to sign them.
    pub fn address(ss58: &str) -> Result<Hotkey> {
        let account: subxt::utils::AccountId32 = ss58
            .parse()
            .map_err(|_| crate::error::UsageError(format!("{ss58:?} is not an ss58 address")))?;
        Ok(Hotkey {
            keypair: None,
            ss58: account.to_string(),
            account: account.0,
        })
    }

    /// The keypair that signs, where this hotkey was loaded from a wallet.
    pub fn keypair(&self) -> Result<&Keypair> {
        self.keypair.as_ref().with_context(|| {
            format!(
                "the hotkey {} is known by its address only and cannot sign: give --wallet-name and --wallet-hotkey",
                self.ss58
            )
        })
    }

    pub fn load(wallet: &WalletRef) -> Result<Hotkey> {
        Hotkey::from_file(&wallet.hotkey_file())
    }

    pub fn from_file(path: &Path) -> Result<Hotkey> {
        let shown = path.display();
        let meta = std::fs::metadata(path).with_context(|| {
            format!("cannot read the hotkey file {shown}: check --wallet-path, --wallet-name and --wallet-hotkey")
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                bail!(
                    "the hotkey file {shown} can be read by other users (mode {mode:o}): run `chmod 600 {shown}`"
                );
            }
        }
        anyhow::ensure!(
            meta.len() < 64 * 1024,
            "{shown} is {} bytes, too large to be a hotkey file",
            meta.len()
        );
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
        if bytes.starts_with(b"$NACL")
            || bytes.starts_with(b"$ANSIBLE_VAULT")
            || bytes.starts_with(b"gAAAAA")
        {
            bail!(
                "the hotkey file {shown} is encrypted: gauntlet signs unattended and needs an unencrypted hotkey (a validator's hotkey holds no funds; keep the coldkey encrypted)"
            );
        }
        let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "the hotkey file {shown} is not a Bittensor keyfile (JSON at line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
        let keypair = if let Some(seed) = &file.secret_seed {
            let raw = hex::decode(seed.trim_start_matches("0x"))
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .with_context(|| format!("secretSeed in {shown} is not 32 bytes of hex"))?;
            Keypair::from_secret_key(raw)
                .map_err(|_| anyhow::anyhow!("secretSeed in {shown} is not a valid sr25519 seed"))?
        } else if let Some(phrase) = &file.secret_phrase {
            let mnemonic = bip39_parse(phrase)
                .with_context(|| format!("secretPhrase in {shown} is not a BIP39 phrase"))?;
            Keypair::from_phrase(&mnemonic, None).map_err(|_| {
                anyhow::anyhow!("secretPhrase in {shown} does not give an sr25519 key")
            })?
        } else {
            bail!("the hotkey file {shown} has neither secretSeed nor secretPhrase");
        };
        let account = keypair.public_key().0;
        let ss58 = keypair.public_key().to_account_id().to_string();
        if let Some(expected) = &file.ss58_address {
            anyhow::ensure!(
                expected == &ss58,
                "the hotkey file {shown} says its address is {expected} but its secret gives {ss58}: the file is damaged"
            );
        }
        Ok(Hotkey {
            keypair: Some(keypair),
            ss58,
            account,
        })
    }
}

fn bip39_parse(phrase: &str) -> Result<subxt_signer::bip39::Mnemonic> {
    Ok(subxt_signer::bip39::Mnemonic::parse(phrase)?)
}
