"""`afluente classify`, `audit`, `forget`, `retain` and `subject export`: personal data
under LGPD."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from afluente.cli.app import app
from afluente.cli.console import Console
from afluente.cli.context import CliState, state_of
from afluente.errors import AuditError

if TYPE_CHECKING:
    from afluente.config import Project

audit_app = typer.Typer(help="The hash-chained audit log: query it, verify it.",
                        invoke_without_command=True)
subject_app = typer.Typer(help="A data subject's rights: export what is held about them.",
                          no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(subject_app, name="subject")

SUBJECT_HELP = "The subject as COLUMN=VALUE, e.g. cpf=12345678909 or email=ana@x.com."


def _admin_project(ctx: typer.Context, action: str) -> tuple[CliState, Project]:
    """The project, once the caller is known to be an ADMIN where `afluente.yml` declares
    governance: these commands read or erase values no grant or mask governs."""
    from afluente.governance.reader import GovernedReader, require_admin

    cli = state_of(ctx)
    project = cli.project()
    require_admin(GovernedReader.open(project), action)
    return cli, project


@app.command()
def classify(
    ctx: typer.Context,
    apply: bool = typer.Option(False, "--apply", help="Write the new tags into the model "
                               "files (SQL headers); print the YAML for the others."),
    sample: int = typer.Option(1000, "--sample", help="Rows sampled per table."),
) -> None:
    """Suggest `pii` tags from column names and values (CPF/CNPJ check digits, e-mail,
    phone, CEP, names, dates of birth), with confidence and masked samples."""
    from afluente.governance.audit import append_audit
    from afluente.governance.classify import classify as run_classify
    from afluente.governance.holdings import ProjectView
    from afluente.governance.tag_writer import write_tags

    cli, project = _admin_project(ctx, "classify columns (it samples every table's values)")
    view = ProjectView.load(project)
    result = run_classify(view, sample)
    written = write_tags(view, result.new) if apply else None
    if apply:
        append_audit(project, "classify", "project", {"tagged": [s.key for s in result.new]})
    payload = {"suggestions": [{**s.__dict__, "samples": list(s.samples)}
                               for s in result.suggestions],
               "inherited": result.inherited,
               "written": written.files if written else [],
               "yaml_to_add": written.yaml if written else {}}

    def render(console: Console) -> None:
        console.table(["column", "kind", "confidence", "matched", "why", "tagged", "samples"],
                      [[s.key, s.kind, f"{s.confidence:.2f}", f"{s.matched}/{s.sampled}",
                        s.reason, "yes" if s.tagged else "NEW", ", ".join(s.samples)]
                       for s in result.suggestions], title="personal data")
        for column, reached in result.inherited.items():
            console.line(f"tagging {column} also tags {', '.join(reached)} (lineage)", "dim")
        if written:
            for file in written.files:
                console.line(f"tags written: {file}", "green")
            for where, text in written.yaml.items():
                console.line(f"add to {where}:\n{text}", "yellow")
        elif result.new:
            console.line(f"{len(result.new)} new; `afluente classify --apply` writes them",
                         "dim")

    cli.console.emit(payload, render)


@audit_app.callback()
def audit(
    ctx: typer.Context,
    since: datetime = typer.Option(None, "--since", help="Entries from this time (ISO)."),
    action: str = typer.Option(None, "--action", help="write, erasure, grant, ..."),
    principal: str = typer.Option(None, "--principal", help="Who acted."),
    limit: int = typer.Option(50, "--limit", "-n", help="Newest entries shown."),
) -> None:
    """The audit log's entries (newest last)."""
    if ctx.invoked_subcommand is not None:
        return
    from afluente.governance.audit import query

    cli, project = _admin_project(ctx, "read the audit log")
    entries = query(project, since, action, principal)[-limit:]

    def render(console: Console) -> None:
        console.table(["seq", "ts", "principal", "action", "object", "detail"],
                      [[e.seq, e.ts, e.principal, e.action, e.object,
                        json.dumps(e.detail, ensure_ascii=False)] for e in entries])

    cli.console.emit([e.__dict__ for e in entries], render)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the hash chain; name the first changed, removed or reordered entry."""
    from afluente.governance.audit import audit_path, read_entries, verify

    cli = state_of(ctx)
    project = cli.project()
    tamper = verify(project)
    if tamper is not None:
        raise AuditError(f"audit log broken at {tamper.describe(audit_path(project))}",
                         hint="restore the log from a copy; entries after it cannot be trusted")
    entries = read_entries(project)
    head = entries[-1] if entries else None
    payload = {"ok": True, "entries": len(entries), "head": head.hash if head else None}
    cli.console.emit(payload, lambda c: c.line(
        f"audit log intact: {len(entries)} entries, head {head.hash[:16] if head else '-'}",
        "green"))


@app.command()
def forget(
    ctx: typer.Context,
    subject: str = typer.Option(..., "--subject", help=SUBJECT_HELP),
) -> None:
    """Erase a data subject everywhere (LGPD Art. 18 VI): rows, files, Delta log statistics,
    state store, reports; writes an erasure certificate. Time travel before it is lost for
    the tables touched."""
    from afluente.governance.erasure import forget as run_forget

    cli, project = _admin_project(ctx, "erase a data subject")
    certificate = run_forget(project, subject)

    def render(console: Console) -> None:
        console.table(["table", "rows removed", "files rewritten", "version"],
                      [[t.table, t.rows_removed, t.files_rewritten, t.version]
                       for t in certificate.tables], title="erased")
        for table, rows in certificate.state_store.items():
            console.line(f"state store {table}: {rows} rows scrubbed", "dim")
        for file in certificate.files_scrubbed:
            console.line(f"scrubbed {file}", "dim")
        for file in certificate.source_files_holding_subject:
            console.line(f"the source still holds the subject: {file} (not afluente's to "
                         "change: pass the request on)", "yellow")
        console.line(certificate.time_travel, "dim")
        console.line(f"certificate: .afluente/erasures/{certificate.request_id}.json", "green")

    cli.console.emit(certificate.as_json(), render)


@app.command()
def retain(
    ctx: typer.Context,
    select: str = typer.Option(None, "--select", "-s", help="Only these tables (selector)."),
) -> None:
    """Delete the rows older than each model's `retention:` period (measured on its
    `retention_column:`), one commit per table that has any; audited. Under governance it
    takes MODIFY on each table."""
    from afluente.model import load_graph
    from afluente.runtime.retention import apply_retention

    cli = state_of(ctx)
    project = cli.project()
    results = apply_retention(project, select, graph=load_graph(project))

    def render(console: Console) -> None:
        if not results:
            console.line("no built table declares `retention:`", "dim")
            return
        console.table(["table", "retention", "column", "older than", "rows deleted",
                       "version"],
                      [[r.table, r.retention, r.column, f"{r.cutoff:%Y-%m-%d %H:%M}",
                        r.rows_deleted, r.version if r.version is not None else "-"]
                       for r in results], title="retention")

    cli.console.emit([{"table": r.table, "retention": r.retention, "column": r.column,
                       "older_than": r.cutoff.isoformat(), "rows_deleted": r.rows_deleted,
                       "version": r.version} for r in results], render)


@subject_app.command("export")
def subject_export(
    ctx: typer.Context,
    subject: str = typer.Option(..., "--subject", help=SUBJECT_HELP),
    out: Path = typer.Option(None, "--out", "-o", help="Write the JSON here (else stdout)."),
) -> None:
    """Everything held about a subject as JSON (LGPD Art. 18 II and V)."""
    from afluente.governance.subject_export import export_subject

    cli, project = _admin_project(ctx, "export a data subject's data")
    document = export_subject(project, subject)
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
        cli.console.emit({"written": str(out)}, lambda c: c.line(f"written: {out}"))
    else:
        cli.console.emit(document, lambda c: c.line(text))


@app.command("processing-records")
def processing_records(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", "-o", help="Write a Markdown report here."),
) -> None:
    """Records of processing (LGPD Art. 37) from lineage and tags: per table holding
    personal data, its purpose, owner, personal columns, sources and recipients."""
    from afluente.governance.holdings import ProjectView
    from afluente.governance.processing_records import as_markdown
    from afluente.governance.processing_records import processing_records as records_of

    cli = state_of(ctx)
    project = cli.project()
    records = records_of(ProjectView.load(project))
    if out is not None:
        out.write_text(as_markdown(project.config.name, records), encoding="utf-8")

    def render(console: Console) -> None:
        console.table(["table", "personal data", "from", "to", "owner"],
                      [[r.table, ", ".join(r.personal_data), ", ".join(r.sources),
                        ", ".join(r.recipients), r.owner] for r in records],
                      title="records of processing")
        if out is not None:
            console.line(f"written: {out}", "dim")

    cli.console.emit([r.__dict__ for r in records], render)
