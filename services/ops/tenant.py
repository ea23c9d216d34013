"""`menjamu tenant init|check`: a new kecamatan's tenant file in minutes, and its check."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from shared.tenant_check import check_tenant_text, read_tenant_yaml

# (flag, prompt in Bahasa Indonesia, default); tenant facts the services need.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("name", "Nama kecamatan (mis. Kecamatan Mojosari)", ""),
    ("kabupaten", "Kabupaten/kota (mis. Kabupaten Mojokerto)", ""),
    ("provinsi", "Provinsi", ""),
    ("kemendagri_code", "Kode wilayah Kemendagri (mis. 35.16.08)", ""),
    ("camat", "Nama camat (penanda tangan e-sertifikat)", ""),
    ("camat_title", "Jabatan di bawah tanda tangan", "Camat"),
    ("timezone", "Zona waktu (Asia/Jakarta, Asia/Makassar, Asia/Jayapura)", "Asia/Jakarta"),
    ("call_center", "Nomor WhatsApp layanan (mis. 081234567890)", ""),
    ("address", "Alamat kantor kecamatan", ""),
    (
        "programme",
        "Nama program",
        "SI GEN-Z MENJAMU (Siapkan Generasi Milenial - Z Menjadi Pemandu)",
    ),
)
LIST_FIELDS: tuple[tuple[str, str, str], ...] = (
    (
        "levels",
        "Jenjang peserta, pisahkan dengan koma",
        "SMP, SMA, Mahasiswa, Organisasi Masyarakat",
    ),
    ("desa", "Desa/kelurahan, pisahkan dengan koma (boleh kosong)", ""),
)


def add_parser(sub: Any) -> None:
    """Adds `tenant init` and `tenant check` to the `menjamu` command."""
    tenant = sub.add_parser("tenant", help="create or check a kecamatan's tenant file")
    actions = tenant.add_subparsers(dest="tenant_action", required=True)
    init = actions.add_parser("init", help="write deploy/tenants/<code>.yaml (prompts for gaps)")
    init.add_argument("code", help="short code of the kecamatan, e.g. mojosari")
    for flag, prompt, _default in FIELDS + LIST_FIELDS:
        init.add_argument(f"--{flag.replace('_', '-')}", dest=flag, help=prompt)
    init.add_argument("--output", type=Path, help="file to write (default: tenants folder)")
    init.add_argument(
        "--template", type=Path, help="tenant file whose requirements and rules to copy"
    )
    init.add_argument("--no-input", action="store_true", help="never prompt; use defaults")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    check = actions.add_parser("check", help="validate tenant files and say what is wrong")
    check.add_argument("files", nargs="+", type=Path)


def run(args: argparse.Namespace) -> int:
    """Runs `tenant init` or `tenant check`."""
    if args.tenant_action == "check":
        return check_files(args.files)
    return init_file(args, ask=input)


def check_files(files: list[Path]) -> int:
    """Prints each file's problems; returns 1 when any file is invalid."""
    failed = 0
    for path in files:
        if not path.is_file():
            print(f"{path}: berkas tidak ditemukan.", file=sys.stderr)
            failed += 1
            continue
        problems = check_tenant_text(path.read_text(encoding="utf-8"))
        if problems:
            failed += 1
            print(f"{path}: {len(problems)} masalah", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        else:
            print(f"{path}: OK")
    return 1 if failed else 0


def init_file(args: argparse.Namespace, *, ask: Callable[[str], str]) -> int:
    """Writes a tenant file from flags, prompting for what the flags left out."""
    from shared.settings import ServiceSettings

    settings = ServiceSettings()
    output: Path = args.output or settings.tenants_dir / f"{args.code}.yaml"
    if output.exists() and not args.force:
        print(f"{output} sudah ada; pakai --force untuk menimpanya.", file=sys.stderr)
        return 1
    values = _collect(args, ask)
    template = args.template or settings.tenants_dir / "mojosari.yaml"
    text = render_tenant_file(args.code, values, _template_sections(template))
    problems = check_tenant_text(text)
    if problems:
        print("Berkas belum dapat dipakai:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"ditulis: {output}")
    print("langkah berikutnya: periksa 'requirements', isi 'whatsapp_groups', lalu")
    print(f"  menjamu token --role operator --tenant {args.code} --subject 'Operator loket'")
    return 0


def _collect(args: argparse.Namespace, ask: Callable[[str], str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for flag, prompt, default in FIELDS + LIST_FIELDS:
        value = getattr(args, flag, None)
        if value is None and not args.no_input:
            shown = f" [{default}]" if default else ""
            try:
                value = ask(f"{prompt}{shown}: ").strip()
            except EOFError:
                value = ""
        values[flag] = value or default
    return values


def _template_sections(path: Path) -> dict[str, Any]:
    """Requirements and consultation rules are national (Adminduk): copy them from a template."""
    if not path.is_file():
        return {}
    data = read_tenant_yaml(path.read_text(encoding="utf-8"))
    return {k: data[k] for k in ("requirements", "consultation_rules") if k in data}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def render_tenant_file(code: str, values: dict[str, str], copied: dict[str, Any]) -> str:
    """Renders a commented tenant file with every field the services read."""
    facts = {"code": code, **{flag: values[flag] for flag, _p, _d in FIELDS}}
    name = values["name"] or code
    sections: list[tuple[str, dict[str, Any]]] = [
        ("Facts of the kecamatan; `camat` signs the e-certificate.", {"tenant": facts}),
        ("Who is invited to the socialisation events (jenjang).",
         {"participant_levels": _split(values["levels"])}),
        ("Desa/kelurahan for the registration form (empty: free text).",
         {"desa": _split(values["desa"])}),
        ("Service units that carry an SKM survey QR code (code: display name).",
         {"survey_units": {"kantor-kecamatan": f"Kantor {name}",
                           "si-genz-menjamu": "Program SI GEN-Z MENJAMU"}}),
        ("Mentors' WhatsApp groups (name, invite_link); add them when a mentor created one.",
         {"whatsapp_groups": []}),
    ]  # fmt: skip
    for key, comment in (
        ("requirements", "Documents per Adminduk procedure (copied from the template: review)."),
        ("consultation_rules", "Rules of the consultation group (copied from the template)."),
    ):
        if key in copied:
            sections.append((comment, {key: copied[key]}))
    parts = [f"# Tenant file for {name}, written by `menjamu tenant init {code}`.\n"]
    for comment, section in sections:
        dumped = yaml.safe_dump(section, allow_unicode=True, sort_keys=False, width=100)
        parts.append(f"\n# {comment}\n{dumped}")
    return "".join(parts)
