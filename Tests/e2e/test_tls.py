"""Real clients over HTTPS with their default settings: aws-chunked trailers and checksums on."""
import os
import subprocess
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import ACCESS_KEY, SECRET_KEY, Server, error_code


@pytest.fixture(scope="module")
def tls():
    server = Server(extra_args=["--tls-self-signed", "--http-port", "0"]).start()
    server.ca = os.path.join(server.data, "tls", "cert.pem")
    server.https = f"https://127.0.0.1:{server.port}"
    while b"also listening" not in server.output:  # the plain listener's line follows the HTTPS one
        server.output += server.process.stdout.readline()
    yield server
    server.stop()


def client(server, service="s3"):
    return boto3.client(service, endpoint_url=server.https, verify=server.ca, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1",
                        config=Config(retries={"total_max_attempts": 1}))


@pytest.mark.parametrize("algorithm", [None, "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_boto3_put_get_each_checksum(tls, algorithm):
    s3 = client(tls)
    bucket = f"tls-{(algorithm or 'default').lower()}"
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(300_000)
    kwargs = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    s3.put_object(Bucket=bucket, Key="obj", Body=body, ContentEncoding="gzip", **kwargs)
    got = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert got["Body"].read() == body  # botocore validated the returned checksum too
    assert got["ContentEncoding"] == "gzip"  # aws-chunked stripped, the rest kept
    assert got["ContentLength"] == len(body)
    name = f"Checksum{algorithm or 'CRC32'}"
    assert got[name]
    ranged = s3.get_object(Bucket=bucket, Key="obj", Range="bytes=0-99", ChecksumMode="ENABLED")
    assert ranged["Body"].read() == body[:100] and name not in ranged


def test_aws_cli_over_https(tls, tmp_path):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=tls.ca)
    aws = ["aws", "--endpoint-url", tls.https]
    folder = tmp_path / "tree"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(os.urandom(5000))
    (folder / "sub" / "b.txt").write_text("b")
    for args in (["s3", "mb", "s3://cli-tls"], ["s3", "cp", str(folder / "a.txt"), "s3://cli-tls/a.txt"],
                 ["s3", "sync", str(folder), "s3://cli-tls/synced"]):
        subprocess.run(aws + args, env=env, check=True, capture_output=True)
    listing = subprocess.run(aws + ["s3", "ls", "s3://cli-tls", "--recursive"], env=env, check=True,
                             capture_output=True, text=True).stdout
    assert "synced/sub/b.txt" in listing
    subprocess.run(aws + ["s3", "cp", "s3://cli-tls/a.txt", str(tmp_path / "back.txt")], env=env, check=True,
                   capture_output=True)
    assert (tmp_path / "back.txt").read_bytes() == (folder / "a.txt").read_bytes()
    url = subprocess.run(aws + ["s3", "presign", "s3://cli-tls/a.txt"], env=env, check=True, capture_output=True,
                         text=True).stdout.strip()
    curl = subprocess.run(["curl", "-s", "--cacert", tls.ca, url], capture_output=True)
    assert curl.stdout == (folder / "a.txt").read_bytes()
    subprocess.run(aws + ["s3", "rm", "s3://cli-tls", "--recursive"], env=env, check=True, capture_output=True)


def test_mfa_delete_over_https_from_any_peer(tls):
    """Over HTTPS x-amz-mfa is accepted from any peer (a forwarded, non-loopback one here)."""
    import pyotp
    iam, s3 = client(tls, "iam"), client(tls)
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="tls-root")["VirtualMFADevice"]
    totp = pyotp.TOTP(device["Base32StringSeed"].decode())
    iam.enable_mfa_device(UserName="root", SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.at(time.time() - 60), AuthenticationCode2=totp.at(time.time() - 30))

    def forwarded(request, **_):
        request.headers["X-Forwarded-For"] = "198.51.100.9"

    s3.meta.events.register("before-sign.s3.*", forwarded)
    s3.create_bucket(Bucket="tls-vault")
    s3.put_bucket_versioning(Bucket="tls-vault", MFA=f"{device['SerialNumber']} {totp.at(time.time())}",
                             VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    version = s3.put_object(Bucket="tls-vault", Key="k", Body=b"x")["VersionId"]
    s3.delete_object(Bucket="tls-vault", Key="k", VersionId=version,
                     MFA=f"{device['SerialNumber']} {totp.at(time.time() + 30)}")
    # The same from a forwarded peer over the plain listener is refused.
    plain_port = int(tls.output.decode().split("also listening on http://127.0.0.1:")[1].split()[0])
    plain = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{plain_port}", aws_access_key_id=ACCESS_KEY,
                         aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    plain.meta.events.register("before-sign.s3.*", forwarded)
    version = plain.put_object(Bucket="tls-vault", Key="k2", Body=b"y")["VersionId"]
    with pytest.raises(ClientError) as e:
        plain.delete_object(Bucket="tls-vault", Key="k2", VersionId=version, MFA=f"{device['SerialNumber']} 123456")
    assert error_code(e) == "InvalidRequest"


def test_presigned_put_with_curl_over_https(tls, tmp_path):
    s3 = client(tls)
    s3.create_bucket(Bucket="tls-presign")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "tls-presign", "Key": "p"}, ExpiresIn=300)
    source = tmp_path / "p.bin"
    source.write_bytes(os.urandom(70_000))
    result = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", tls.ca, "-T",
                             str(source), url], capture_output=True, text=True)
    assert result.stdout == "200"
    assert s3.get_object(Bucket="tls-presign", Key="p")["Body"].read() == source.read_bytes()
