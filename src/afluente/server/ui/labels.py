"""The UI's words in English and Portuguese, and which language a request wants
(`?lang=pt`, then the `afluente_lang` cookie, then `Accept-Language`)."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request

Language = Literal["en", "pt"]
LANG_COOKIE = "afluente_lang"

LABELS: dict[str, tuple[str, str]] = {  # key: (English, Portuguese)
    "graph": ("Pipeline graph", "Grafo do pipeline"),
    "runs": ("Runs", "Execuções"),
    "schedules": ("Schedules and sensors", "Agendas e sensores"),
    "health": ("Health", "Saúde"),
    "dashboards": ("Dashboards", "Painéis"),
    "login": ("Sign in", "Entrar"),
    "logout": ("Sign out", "Sair"),
    "token": ("Token", "Token"),
    "token_help": ("A token from `afluente token create`.",
                   "Um token de `afluente token create`."),
    "search": ("Search tables", "Buscar tabelas"),
    "zoom_in": ("Zoom in", "Aproximar"),
    "zoom_out": ("Zoom out", "Afastar"),
    "zoom_reset": ("Fit", "Ajustar"),
    "status": ("Status", "Status"),
    "freshness": ("Freshness", "Atualidade"),
    "layer": ("Layer", "Camada"),
    "description": ("Description", "Descrição"),
    "owner": ("Owner", "Responsável"),
    "tags": ("Tags", "Etiquetas"),
    "kind": ("Kind", "Tipo"),
    "schema": ("Schema", "Esquema"),
    "column": ("Column", "Coluna"),
    "type": ("Type", "Tipo"),
    "nullable": ("Nullable", "Aceita nulo"),
    "history": ("Delta history", "Histórico Delta"),
    "version": ("Version", "Versão"),
    "timestamp": ("Time", "Horário"),
    "operation": ("Operation", "Operação"),
    "rows": ("Rows", "Linhas"),
    "run": ("Run", "Execução"),
    "time_travel": ("Time travel", "Viagem no tempo"),
    "as_of": ("As of (ISO time)", "Em (horário ISO)"),
    "show": ("Show", "Mostrar"),
    "latest": ("latest", "mais recente"),
    "row_browser": ("Rows", "Linhas"),
    "next_page": ("Next page", "Próxima página"),
    "first_page": ("First page", "Primeira página"),
    "showing": ("version {version}, rows {first} to {last}",
                "versão {version}, linhas {first} a {last}"),
    "quality": ("Quality results", "Resultados de qualidade"),
    "rule": ("Rule", "Regra"),
    "passed": ("passed", "passou"),
    "failed": ("failed", "falhou"),
    "failing_rows": ("Failing rows", "Linhas com falha"),
    "quarantine": ("Quarantine", "Quarentena"),
    "nothing": ("Nothing here.", "Nada aqui."),
    "pillars": ("The five pillars", "Os cinco pilares"),
    "incidents": ("Incidents", "Incidentes"),
    "lineage": ("Column lineage", "Linhagem de colunas"),
    "upstream": ("Upstream", "Upstream"),
    "downstream": ("Downstream", "Downstream"),
    "pick_column": ("Column", "Coluna"),
    "started": ("Started", "Início"),
    "finished": ("Finished", "Fim"),
    "selector": ("Selection", "Seleção"),
    "trigger": ("Trigger", "Gatilho"),
    "models": ("Models", "Modelos"),
    "timeline": ("Timeline", "Linha do tempo"),
    "events": ("Events", "Eventos"),
    "retry": ("Retry what failed", "Repetir o que falhou"),
    "cancel": ("Cancel run", "Cancelar execução"),
    "start_run": ("Start a run", "Iniciar execução"),
    "error": ("Error", "Erro"),
    "hint": ("Hint", "Dica"),
    "name": ("Name", "Nome"),
    "when": ("When", "Quando"),
    "next_due": ("Next fire time", "Próximo disparo"),
    "last_status": ("Last status", "Último status"),
    "table": ("Table", "Tabela"),
    "live": ("live", "ao vivo"),
    "language": ("Português", "English"),
    "duration": ("Duration", "Duração"),
    "attempts": ("Attempts", "Tentativas"),
    "no_runs": ("No runs yet.", "Nenhuma execução ainda."),
}


def language(request: Request) -> Language:
    said = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if said in ("en", "pt"):
        return said  # type: ignore[return-value]
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()
        if code.startswith("pt"):
            return "pt"
        if code.startswith("en"):
            return "en"
    return "en"


def labels(lang: Language) -> dict[str, str]:
    """Every label in `lang`."""
    index = 1 if lang == "pt" else 0
    return {key: pair[index] for key, pair in LABELS.items()}
