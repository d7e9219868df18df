"""The dashboard's pages: one registry for st.navigation and every page link."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageDef:
    key: str
    path: str  # relative to app.py
    title: str
    icon: str
    url_path: str
    # The users.PERMISSIONS entry a role needs to use the page (None: every signed-in user).
    # Pages with one are listed under 数据管理 and hidden from roles without it.
    permission: str | None = None


PAGES: dict[str, PageDef] = {
    p.key: p
    for p in (
        PageDef("overview", "views/overview.py", "总览", ":material/dashboard:", "overview"),
        PageDef("work_points", "views/work_points.py", "工作要点进展", ":material/checklist:", "work_points"),
        PageDef("severe_share", "views/severe_share.py", "严重失信主体占比", ":material/gpp_bad:", "severe_share"),
        PageDef("objections", "views/objections.py", "双公示异议占比", ":material/report:", "objections"),
        PageDef("sector_risk", "views/sector_risk.py", "行业风险热力图", ":material/grid_on:", "sector_risk"),
        PageDef("briefing", "views/briefing.py", "周报", ":material/summarize:", "briefing"),
        PageDef("upload", "views/upload.py", "数据上传", ":material/upload_file:", "upload", "upload"),
        PageDef("audit", "views/audit_log.py", "审计日志", ":material/policy:", "audit", "manage"),
    )
}
DEFAULT_PAGE = "overview"
