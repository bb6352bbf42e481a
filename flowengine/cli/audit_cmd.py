"""`flowengine audit keygen|checkpoint|prove`: signed checkpoints of the store-wide
transparency log and inclusion proofs (docs/audit.md). `audit verify --checkpoint` is in
ops_cmd.py and loads the checkpoint through `load_checkpoint` here."""

from __future__ import annotations

import json
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from ..audit.checkpoint import Checkpoint, CheckpointError, check_signature, parse, prove, take
from ..audit.whole import CaseHead, case_heads
from .common import (
    EngineSpec,
    emit,
    engine_options,
    json_option,
    open_engine,
    reading_engine_options,
)
from .ops_cmd import audit_group

FILE = click.Path(exists=True, dir_okay=False)


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def load_private(path: str) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"{path}: not an unencrypted PEM private key ({exc})",
                                 param_hint="--key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise click.BadParameter(f"{path}: not an Ed25519 key; make one with "
                                 "'flowengine audit keygen'", param_hint="--key")
    return key


def load_public(path: str) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(_read(path))
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"{path}: not a PEM public key ({exc})",
                                 param_hint="--pubkey") from None
    if not isinstance(key, Ed25519PublicKey):
        raise click.BadParameter(f"{path}: not an Ed25519 public key", param_hint="--pubkey")
    return key


def load_checkpoint(path: str, pubkey: str | None) -> Checkpoint:
    """The checkpoint in `path`, its signature checked when `pubkey` is given."""
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: not a flowengine checkpoint (not UTF-8 text)") from None
    cp = parse(text, path)
    if pubkey is not None:
        check_signature(cp, load_public(pubkey), path)
    return cp


@audit_group.command("keygen")
@click.argument("private", type=click.Path(dir_okay=False, writable=True))
def keygen_cmd(private: str) -> None:
    """Write a new Ed25519 key pair: PRIVATE (PEM, keep it safe) and PRIVATE.pub."""
    target = Path(private)
    if target.exists():
        raise click.BadParameter(f"{private} exists; choose a new file name",
                                 param_hint="PRIVATE")
    key = Ed25519PrivateKey.generate()
    target.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    target.chmod(0o600)
    pub = target.with_name(target.name + ".pub")
    pub.write_bytes(key.public_key().public_bytes(Encoding.PEM,
                                                  PublicFormat.SubjectPublicKeyInfo))
    click.echo(f"wrote {target} and {pub}")


@audit_group.command("checkpoint")
@click.option("--key", "key_file", type=FILE, default=None,
              help="Sign with this Ed25519 private key (PEM); unsigned without.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the checkpoint here instead of stdout.")
@engine_options
def checkpoint_cmd(key_file: str | None, output: str | None, spec: EngineSpec) -> None:
    """Give the new events their log indices and print a checkpoint of the whole log
    (size, Merkle root, the database's time, case heads), signed with --key."""
    key = load_private(key_file) if key_file else None
    engine = open_engine(spec, load_processes=False)
    text = take(engine.store, key).text()
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")


@audit_group.command("prove")
@click.argument("case_id", metavar="CASE")
@click.argument("seq", type=click.IntRange(min=1))
@click.option("--checkpoint", "checkpoint_file", type=FILE, required=True,
              help="The checkpoint to prove the event under.")
@click.option("--pubkey", type=FILE, default=None, help="Check its signature first.")
@reading_engine_options
def prove_cmd(case_id: str, seq: int, checkpoint_file: str, pubkey: str | None,
              spec: EngineSpec) -> None:
    """An inclusion proof of event SEQ of CASE under a checkpoint (JSON), checkable with
    the standard library alone (docs/audit.md)."""
    cp = load_checkpoint(checkpoint_file, pubkey)
    engine = open_engine(spec, load_processes=False)
    click.echo(json.dumps(prove(engine.store, cp, case_id, seq), indent=2))


@audit_group.command("heads")
@reading_engine_options
@json_option
def heads_cmd(spec: EngineSpec, as_json: bool) -> None:
    """Each case's last event: case, seq, log index ('-' before any checkpoint) and hash,
    one line per case, to file beside a checkpoint (read-only)."""
    engine = open_engine(spec, load_processes=False)
    heads: list[CaseHead] = []
    bad: list[str] = []
    for head in case_heads(engine.store):
        if isinstance(head, str):
            bad.append(head)
        elif as_json:
            heads.append(head)
        else:  # streamed: a store of a million cases is not held
            click.echo(head.line())
    if as_json:
        emit(True, {"cases": len(heads), "heads": [h.as_dict() for h in heads],
                    "unreadable": bad}, [])
    for why in bad:
        click.echo(f"error: {why}", err=True)
    if bad:
        raise SystemExit(1)
