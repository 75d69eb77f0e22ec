//! S3-compatible buckets (Cloudflare R2, SeaweedFS, MinIO, AWS): one client per bucket, built
//! explicitly (no machine-wide AWS settings), path-style addressing, and checksums only when
//! required, since R2 refuses the SDK's newer default checksums and ranged reads can fail
//! their validation. Retries are the caller's: the SDK's own are off.

use super::{ObjectMeta, Store, StoreError};
use crate::chain::BucketSpec;
use anyhow::{Context, Result};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, HttpClient, Region, RequestChecksumCalculation,
    ResponseChecksumValidation, RuntimeComponents, SharedHttpClient,
};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::http::{HttpConnectorSettings, SharedHttpConnector};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::time::{Duration, SystemTime};

thread_local! {
    /// Each calling thread drives its own requests: the connection task, the body and the
    /// caller's writes all run on that thread, with no hand-off between threads per chunk.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("start the S3 runtime");
    /// Connections belong to the runtime that opened them, so each thread pools its own.
    static CLIENT: SharedHttpClient = {
        use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
        aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https()
    };
}

/// Runs one S3 call to completion on the calling thread.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(f))
}

/// Gives each request the HTTP client of the thread that sends it, so that a store opened on
/// one thread and used on another never touches a connection of a runtime not running.
#[derive(Debug)]
struct PerThreadClient;

impl HttpClient for PerThreadClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        CLIENT.with(|c| c.http_connector(settings, components))
    }
}

/// Timeouts of every S3 request.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub connect: Duration,
    /// A read that receives nothing for this long fails (a stalled download).
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(30),
        }
    }
}

pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    url: String,
    timeouts: Timeouts,
}

/// The client configuration: explicit endpoint, path style, a region (R2 uses `auto`),
/// checksums only when required, no SDK retries.
pub fn client_config(spec: &BucketSpec, timeouts: Timeouts) -> Result<aws_sdk_s3::Config> {
    let endpoint = spec.endpoint.as_deref().context(
        "an s3:// bucket needs an endpoint (for R2: https://ACCOUNT_ID.r2.cloudflarestorage.com)",
    )?;
    let (Some(key), Some(secret)) = (&spec.access_key_id, &spec.secret_access_key) else {
        anyhow::bail!(
            "bucket {} has no read credentials (access_key_id and secret_access_key)",
            spec.url
        )
    };
    let creds = Credentials::new(
        key.expose(),
        secret.expose(),
        None,
        None,
        "gauntlet-network",
    );
    Ok(aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(
            spec.region.clone().unwrap_or_else(|| "auto".into()),
        ))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(creds)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeouts.connect)
                .read_timeout(timeouts.read)
                .build(),
        )
        .http_client(SharedHttpClient::new(PerThreadClient))
        .build())
}

impl Timeouts {
    /// The timeouts the config's fetch section sets.
    pub fn configured(cfg: &crate::config::Config) -> Timeouts {
        Timeouts {
            connect: crate::chain::seconds(cfg.fetch.connect_timeout_seconds),
            read: crate::chain::seconds(cfg.fetch.read_timeout_seconds),
        }
    }
}

impl S3Store {
    /// `bucket` is the part of the URL after `s3://`.
    pub fn open(bucket: &str, spec: &BucketSpec, timeouts: Timeouts) -> Result<S3Store> {
        let bucket = bucket.trim_end_matches('/');
        anyhow::ensure!(
            !bucket.is_empty() && !bucket.contains('/'),
            "bucket URL {:?}: use s3://BUCKET",
            spec.url
        );
        let client = aws_sdk_s3::Client::from_conf(client_config(spec, timeouts)?);
        let endpoint = spec.endpoint.clone().unwrap_or_default();
        Ok(S3Store {
            client,
            bucket: bucket.to_string(),
            url: format!("s3://{bucket} at {endpoint}"),
            timeouts,
        })
    }

    /// Creates the bucket (for tests and local networks); an existing bucket is fine.
    pub fn create_bucket(&self) -> Result<()> {
        match block_on(self.client.create_bucket().bucket(&self.bucket).send()) {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.meta().code())
                    .is_some_and(|c| c.starts_with("BucketAlready")) =>
            {
                Ok(())
            }
            Err(e) => anyhow::bail!("cannot create bucket {}: {}", self.url, classify(&e)),
        }
    }
}

/// Sorts an SDK error into what a caller can act on, without ever printing the request
/// (whose headers carry the signature) or the response body.
fn classify<E>(e: &SdkError<E, HttpResponse>) -> StoreError {
    match e {
        SdkError::TimeoutError(_) => return StoreError::Transient("the request timed out".into()),
        SdkError::DispatchFailure(d) => {
            let what = if d.is_timeout() {
                "timed out"
            } else if d.is_io() {
                "could not connect"
            } else {
                "could not be sent"
            };
            return StoreError::Transient(format!("the request {what}"));
        }
        _ => {}
    }
    match e.raw_response().map(|r| r.status().as_u16()) {
        Some(404) => StoreError::NotFound,
        Some(s @ (401 | 403)) => StoreError::Denied { status: s },
        Some(s) if s >= 500 || s == 429 => {
            StoreError::Transient(format!("the server answered HTTP {s}"))
        }
        Some(s) => StoreError::Failed(format!("the server answered HTTP {s}")),
        None => StoreError::Transient("the response could not be read".into()),
    }
}

impl Store for S3Store {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        super::check_key(key)?;
        let body = ByteStream::from(bytes.to_vec());
        block_on(
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .body(body)
                .send(),
        )
        .map_err(|e| anyhow::anyhow!("cannot put {key} in {}: {}", self.url, classify(&e)))?;
        Ok(())
    }

    fn head(&self, key: &str) -> Result<ObjectMeta, StoreError> {
        let r = block_on(
            self.client
                .head_object()
                .bucket(&self.bucket)
                .key(key)
                .send(),
        )
        .map_err(|e| classify(&e))?;
        let size = r.content_length().unwrap_or(0).max(0) as u64;
        let uploaded_at = r
            .last_modified()
            .and_then(|t| SystemTime::try_from(*t).ok())
            .ok_or_else(|| StoreError::Failed("the server sent no Last-Modified time".into()))?;
        Ok(ObjectMeta {
            key: key.to_string(),
            size,
            uploaded_at,
            etag: r.e_tag().unwrap_or_default().trim_matches('"').to_string(),
        })
    }

    fn download(
        &self,
        key: &str,
        offset: u64,
        cap: u64,
        out: &mut dyn std::io::Write,
    ) -> Result<u64, StoreError> {
        let read_timeout = self.timeouts.read;
        block_on(async {
            let mut req = self.client.get_object().bucket(&self.bucket).key(key);
            if offset > 0 {
                req = req.range(format!("bytes={offset}-"));
            }
            let resp = req.send().await.map_err(|e| classify(&e))?;
            if offset > 0 {
                let resumed = resp
                    .content_range()
                    .and_then(|r| r.strip_prefix("bytes "))
                    .and_then(|r| r.split_once('-'))
                    .is_some_and(|(start, _)| start.parse::<u64>() == Ok(offset));
                if !resumed {
                    return Err(StoreError::RangeIgnored {
                        offset,
                        answer: match resp.content_range() {
                            Some(r) => format!("Content-Range {r:?}"),
                            None => "the whole object, without Content-Range".into(),
                        },
                    });
                }
            }
            let total = offset + resp.content_length().unwrap_or(0).max(0) as u64;
            if total > cap {
                return Err(StoreError::TooLarge { size: total, cap });
            }
            let mut body = resp.body;
            let mut received = 0u64;
            // Chunks are handed on in batches of about a megabyte, without copying them.
            let mut batch = super::Batch::default();
            // One timer, pushed back whenever data arrives: a stalled download fails.
            let stall = tokio::time::sleep(read_timeout);
            tokio::pin!(stall);
            loop {
                let chunk = tokio::select! {
                    biased;
                    next = body.next() => match next {
                        None => {
                            batch.write_to(out)?;
                            break;
                        }
                        Some(Err(_)) => return Err(StoreError::Transient("the connection broke during the download".into())),
                        Some(Ok(c)) => c,
                    },
                    _ = &mut stall => return Err(StoreError::Transient(format!("no data for {} s", read_timeout.as_secs()))),
                };
                stall
                    .as_mut()
                    .reset(tokio::time::Instant::now() + read_timeout);
                received += chunk.len() as u64;
                if offset + received > cap {
                    return Err(StoreError::TooLarge {
                        size: offset + received,
                        cap,
                    });
                }
                batch.push(chunk);
                if batch.full() {
                    batch.write_to(out)?;
                }
            }
            Ok(received)
        })
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix);
            if let Some(t) = &token {
                req = req.continuation_token(t);
            }
            let page = block_on(req.send())
                .map_err(|e| anyhow::anyhow!("cannot list {}: {}", self.url, classify(&e)))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }
}
