"""Virtual-host addressing with --domain: bucket.DOMAIN selects the bucket."""
import socket

import boto3
import pytest
import requests
from botocore.config import Config
from conftest import ACCESS_KEY, SECRET_KEY, Server


@pytest.fixture
def vhost(monkeypatch):
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):  # *.example.test → loopback, for this test only
        if isinstance(host, str) and (host == "example.test" or host.endswith(".example.test")):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    server = Server(extra_args=["--domain", "example.test"]).start()
    yield server
    server.stop()


def test_virtual_host_requests(vhost):
    endpoint = f"http://example.test:{vhost.port}"
    virtual = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                           region_name="us-east-1", config=Config(s3={"addressing_style": "virtual"}))
    virtual.create_bucket(Bucket="vhost-bucket")
    virtual.put_object(Bucket="vhost-bucket", Key="dir/a b.txt", Body=b"virtual")
    assert virtual.get_object(Bucket="vhost-bucket", Key="dir/a b.txt")["Body"].read() == b"virtual"
    assert [o["Key"] for o in virtual.list_objects_v2(Bucket="vhost-bucket")["Contents"]] == ["dir/a b.txt"]
    # Path style keeps working on the same server.
    path = boto3.client("s3", endpoint_url=vhost.endpoint, aws_access_key_id=ACCESS_KEY,
                        aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    assert path.get_object(Bucket="vhost-bucket", Key="dir/a b.txt")["Body"].read() == b"virtual"
    # A default (SigV2) presigned URL in virtual-host style.
    url = virtual.generate_presigned_url("get_object", Params={"Bucket": "vhost-bucket", "Key": "dir/a b.txt"})
    assert url.startswith(f"http://vhost-bucket.example.test:{vhost.port}/")
    assert requests.get(url).content == b"virtual"
