"""pyHanko side of benches/signer.sh: makes the benchmark PDF (reportlab), then signs it
(PAdES B-B, ECDSA P-256) and validates the result repeatedly, printing rates as JSON.

    python pyhanko_bench.py make OUT.pdf
    python pyhanko_bench.py run IN.pdf SECONDS
"""
import datetime
import io
import json
import sys
import tempfile
import time
from pathlib import Path


def make(path):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(path)
    c.drawString(72, 720, "A document to sign: benchmark of vhod's signer")
    c.showPage()
    c.save()


def pki(d):
    """A P-256 root and a signer certificate under it, as PEM files in d."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(subject, issuer, key, issuer_key, ca):
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            b = b.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
        else:
            b = b.add_extension(
                x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                critical=True,
            )
        return b.sign(issuer_key, hashes.SHA256())

    root_key = ec.generate_private_key(ec.SECP256R1())
    root = cert("bench root", "bench root", root_key, root_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert("bench signer", "bench root", key, root_key, False)
    pem = serialization.Encoding.PEM
    (d / "root.pem").write_bytes(root.public_bytes(pem))
    (d / "signer.pem").write_bytes(leaf.public_bytes(pem))
    (d / "signer.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def rate(seconds, f):
    warm = time.perf_counter()
    while time.perf_counter() - warm < 0.3:
        f()
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < seconds:
        f()
        n += 1
    return n / (time.perf_counter() - start)


def run(pdf_path, seconds):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    pdf = Path(pdf_path).read_bytes()
    with tempfile.TemporaryDirectory() as t:
        d = Path(t)
        pki(d)
        signer = signers.SimpleSigner.load(str(d / "signer.key"), str(d / "signer.pem"))
        root = load_cert_from_pemder(str(d / "root.pem"))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES
    )

    def sign():
        out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
        return out.getvalue()

    signed = sign()

    def validate():
        r = PdfFileReader(io.BytesIO(signed))
        vc = ValidationContext(trust_roots=[root])
        status = validate_pdf_signature(r.embedded_signatures[0], vc)
        if not status.bottom_line:
            raise SystemExit("pyHanko does not accept its own signature: " + status.summary())

    validate()
    print(json.dumps({
        "pyhanko_sign_per_s": rate(seconds, sign),
        "pyhanko_validate_per_s": rate(seconds, validate),
    }))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        run(sys.argv[2], float(sys.argv[3]))
