"""Side-by-side reference for benches/fetch.rs: a boto3 thread-pool download of the same
objects from the same S3 server, each streamed to a file with its SHA-256 computed, as a
Python validator would fetch a window's gradients.

    python fetch_ref.py ENDPOINT BUCKET ACCESS_KEY SECRET_KEY OUT_DIR THREADS KEY...
Prints one JSON line: seconds, CPU seconds (all, and in the kernel) and bytes.
"""
import concurrent.futures
import hashlib
import json
import os
import resource
import sys
import time

import boto3
from botocore.config import Config


def main():
    endpoint, bucket, key_id, secret, out_dir, threads = sys.argv[1:7]
    keys = sys.argv[7:]
    threads = int(threads)
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(max_pool_connections=threads, s3={"addressing_style": "path"},
                      request_checksum_calculation="when_required", response_checksum_validation="when_required"),
    )

    def get(key):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        h = hashlib.sha256()
        n = 0
        with open(os.path.join(out_dir, key), "wb") as f:
            for chunk in iter(lambda: body.read(1 << 20), b""):
                h.update(chunk)
                f.write(chunk)
                n += len(chunk)
        return n, h.hexdigest()

    cpu0 = time.process_time()
    sys0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(get, keys))
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    sys_cpu = resource.getrusage(resource.RUSAGE_SELF).ru_stime - sys0
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "sys_seconds": sys_cpu, "bytes": sum(n for n, _ in results)}))


if __name__ == "__main__":
    main()
