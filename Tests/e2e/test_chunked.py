"""aws-chunked uploads and flexible checksums, signed here from AWS's SigV4 streaming documentation
(boto3 sends aws-chunked only over HTTPS; TLS comes with its own suite)."""
import base64
import datetime
import hashlib
import hmac
import socket
import zlib

import pytest
from conftest import ACCESS_KEY, SECRET_KEY

EMPTY = hashlib.sha256(b"").hexdigest()


def crc_reflected(data, poly, width):
    """Bitwise reference CRC (reflected, init and xorout all ones)."""
    mask = (1 << width) - 1
    crc = mask
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ mask


def b64(value, width):
    return base64.b64encode(value.to_bytes(width // 8, "big")).decode()


CHECKSUMS = {
    "crc32": lambda d: b64(zlib.crc32(d), 32),
    "crc32c": lambda d: b64(crc_reflected(d, 0x82F63B78, 32), 32),
    "crc64nvme": lambda d: b64(crc_reflected(d, 0x9A6C9329AC4BC9B5, 64), 64),
    "sha1": lambda d: base64.b64encode(hashlib.sha1(d).digest()).decode(),
    "sha256": lambda d: base64.b64encode(hashlib.sha256(d).digest()).decode(),
}


def key(secret, day):
    k = ("AWS4" + secret).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def signed_put(port, path, headers, payload_hash):
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = dict(headers, **{"host": f"127.0.0.1:{port}", "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
    names = sorted(headers)
    canonical = "\n".join(["PUT", path, "", "".join(f"{n}:{headers[n]}\n" for n in names), ";".join(names), payload_hash])
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signing_key = key(SECRET_KEY, day)
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return headers, signing_key, scope, amz_date, signature


def send(port, path, headers, body):
    """Sends with Transfer-Encoding: chunked (as boto3 does over HTTPS), returns (status, text)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode())
        for start in range(0, len(body), 5000):  # HTTP chunks unrelated to the aws-chunks
            piece = body[start:start + 5000]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        sock.sendall(b"0\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(next((l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")),
                          b"0"))
        while len(rest) < length:
            rest += sock.recv(65536)
        return int(head.split(b" ")[1]), head.decode(errors="replace") + rest.decode(errors="replace")


def unsigned_trailer_body(data, algorithm, chunk=65536, value=None):
    body = b""
    for start in range(0, len(data), chunk):
        piece = data[start:start + chunk]
        body += b"%x\r\n%s\r\n" % (len(piece), piece)
    value = value or CHECKSUMS[algorithm](data)
    return body + f"0\r\nx-amz-checksum-{algorithm}:{value}\r\n\r\n".encode()


@pytest.mark.parametrize("algorithm", sorted(CHECKSUMS))
def test_unsigned_trailer_each_checksum(server, s3, bucket, algorithm):
    data = bytes(range(256)) * 600  # 153,600 bytes: several aws-chunks, a blob file
    path = f"/{bucket}/chunked-{algorithm}"
    headers, *_ = signed_put(server.port, path, {
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": f"x-amz-checksum-{algorithm}", "x-amz-sdk-checksum-algorithm": algorithm.upper()},
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    status, text = send(server.port, path, headers, unsigned_trailer_body(data, algorithm))
    assert status == 200, text
    got = s3.get_object(Bucket=bucket, Key=f"chunked-{algorithm}", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got.get("ContentEncoding") is None  # aws-chunked is never stored
    assert got[f"Checksum{algorithm.upper()}"] == CHECKSUMS[algorithm](data)


def test_unsigned_trailer_wrong_checksum_or_length_stores_nothing(server, s3, bucket):
    data = b"hello world"
    path = f"/{bucket}/bad"
    for extra, expected in [({"x-amz-decoded-content-length": "11"}, "BadDigest"),
                            ({"x-amz-decoded-content-length": "12"}, "IncompleteBody")]:
        headers, *_ = signed_put(server.port, path, dict({
            "content-encoding": "aws-chunked", "x-amz-trailer": "x-amz-checksum-crc32"}, **extra),
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        body = unsigned_trailer_body(data, "crc32", value="AAAAAA==" if expected == "BadDigest" else None)
        status, text = send(server.port, path, headers, body)
        assert status == 400 and expected in text
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def signed_chunks(data, signing_key, scope, amz_date, seed, chunk=8192, trailer=None, tamper=False):
    body, previous = b"", seed
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, EMPTY,
                             hashlib.sha256(piece).hexdigest()])
        previous = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        signature = previous if not (tamper and piece) else "0" * 64
        body += b"%x;chunk-signature=%s\r\n%s" % (len(piece), signature.encode(), piece)
        body += b"\r\n" if piece else b""
    if trailer:
        name, value = trailer
        canonical = f"{name}:{value}\n"
        to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        trailer_signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        body += f"{name}:{value}\r\nx-amz-trailer-signature:{trailer_signature}\r\n\r\n".encode()
    else:
        body += b"\r\n"
    return body


@pytest.mark.parametrize("with_trailer", [False, True])
def test_signed_chunks(server, s3, bucket, with_trailer):
    data = b"signed streaming " * 2000
    path = f"/{bucket}/signed-{with_trailer}"
    extra = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    trailer = None
    if with_trailer:
        extra["x-amz-trailer"] = "x-amz-checksum-crc32c"
        mode += "-TRAILER"
        trailer = ("x-amz-checksum-crc32c", CHECKSUMS["crc32c"](data))
    headers, signing_key, scope, amz_date, seed = signed_put(server.port, path, extra, mode)
    status, text = send(server.port, path, headers, signed_chunks(data, signing_key, scope, amz_date, seed,
                                                                  trailer=trailer))
    assert status == 200, text
    assert s3.get_object(Bucket=bucket, Key=f"signed-{with_trailer}")["Body"].read() == data
    # A forged chunk signature is refused and nothing is stored.
    headers, signing_key, scope, amz_date, seed = signed_put(server.port, path + "x", extra, mode)
    status, text = send(server.port, path + "x", headers, signed_chunks(data, signing_key, scope, amz_date, seed,
                                                                        trailer=trailer, tamper=True))
    assert status == 403 and "SignatureDoesNotMatch" in text
