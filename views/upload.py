"""数据上传 (analysts and admins): load exports, see what was detected, accepted and rejected, the upload
history, and (admins) undo an upload."""

from __future__ import annotations

import streamlit as st

from analytics.intake import periods
from analytics.intake.datasets import DATASETS, UPLOADABLE
from analytics.intake.undo import undo_upload
from analytics.output.escaping import markdown_text as md
from dashboard import auth, data, labels, privacy, ui
from dashboard.filters import Filters, current
from dashboard.uploads import (
    ACCEPTED_TYPES,
    chinese_preview,
    dataset_titles,
    errors_frame,
    handle_upload,
    undoable,
)

RESULTS_KEY = "upload_results"
UNDO_PENDING_KEY = "undo_pending"  # the upload id awaiting confirmation
UNDO_RESULT_KEY = "undo_result"  # (ok, message) of the last undo
UNDO_SHOWN = 20  # undo buttons for at most this many uploads


def show_result(index: int, result) -> tuple[str, dict[str, str]] | None:
    """The report of one file. Returns (dataset, column → value) when the analyst filled in the columns a
    refused file lacks and asked to load it again."""
    ok = result.ok
    user = auth.current_user()
    with st.container(border=True):
        st.markdown(f"#### {':material/check_circle:' if ok else ':material/cancel:'} {md(result.file)}")
        st.caption(f"识别为：{dataset_titles(result.dataset)} · 编码：{result.encoding or '—'}")
        if result.cleaned_cells:
            st.info(
                f"已从 {result.cleaned_cells:,} 个单元格中删除不可见的控制字符（如从右向左改写符），"
                "以免名称显示被篡改。",
                icon=":material/cleaning_services:",
            )
        if result.message:
            (st.warning if ok else st.error)(md(result.message))
        for note in result.notes:
            st.info(md(note), icon=":material/info:")
        if result.set_values:
            dataset = DATASETS[result.dataset.split(",")[0]]
            given = "，".join(f"{md(dataset.column(k).label)}＝{md(v)}" for k, v in result.set_values.items())
            st.caption(f"整个文件统一填写：{given}")
        if result.identified_by:
            ways = "，".join(f"{labels.IDENTIFIED_BY.get(k, md(k))} {n:,} 行" for k, n in result.identified_by.items())
            st.caption(f"主体识别方式：{ways}")
        for column, how in result.derived.items():
            label = {"district": "所在区", "sector": "行业"}.get(column, column)
            parts = "，".join(f"{md(way)} {count:,} 行" for way, count in how.items())
            st.caption(f"{label}来源：{parts}")
        for warning in result.warnings:
            st.warning(md(warning), icon=":material/rule:")
        counts = (
            ("读取行数", result.rows_read),
            ("新增", result.loaded),
            ("更新", result.updated),
            ("未变", result.unchanged),
            ("拒收", result.rejected),
        )
        if ok or result.rows_read:  # a file refused before any row was read has no counts to show
            for col, (label, value) in zip(st.columns(len(counts)), counts, strict=True):
                col.metric(label, f"{value:,}")
        preview = chinese_preview(result)
        if preview is not None and len(preview):
            with st.expander(f"预览（前 {len(preview)} 行已接收数据）", expanded=False):
                st.dataframe(privacy.mask_frame(preview, user), hide_index=True, key=f"up_preview_{index}")
        if result.rejected:
            st.markdown(f"**拒收的 {result.rejected} 行及原因**（可下载修改后重新上传）")
            rejected = result.rejected_rows
            if rejected is not None and len(rejected):
                st.dataframe(
                    privacy.mask_frame(rejected, user),
                    hide_index=True,
                    key=f"up_rejected_{index}",
                    height=min(400, 38 + 35 * len(rejected)),
                )
                ui.downloads(
                    rejected,
                    f"拒收行_{result.file.rsplit('.', 1)[0]}",
                    f"up_rejected_{index}",
                    formats=("csv",),
                    label="下载拒收行（CSV）",
                )
            else:
                st.dataframe(privacy.mask_frame(errors_frame(result), user), hide_index=True, key=f"up_errors_{index}")
        if not ok and result.missing:
            return _fill_form(index, result)
    return None


_FILL_HINTS = {"名单名称": "如 交通运输领域严重失信主体名单", "列入日期": "如 2022-05-01", "填报日期": "如 2022-05-01"}


def _fill_form(index: int, result) -> tuple[str, dict[str, str]] | None:
    """Fields for the columns a refused file lacks, when one value holds for the whole file (a list's
    名单名称, its 列入日期): filled in, the file is loaded again as that dataset."""
    dataset, missing = next(iter(result.missing.items()))
    with st.form(f"up_fill_{index}", border=False):
        st.markdown(f"**如整个文件取同一值，填写后重新导入为「{DATASETS[dataset].title}」**")
        values = {
            column: st.text_input(md(column), key=f"up_fill_{index}_{column}", placeholder=_FILL_HINTS.get(column, ""))
            for column in missing
        }
        if st.form_submit_button("填写后重新导入", icon=":material/refresh:"):
            return dataset, {column: value for column, value in values.items() if value.strip()}
    return None


def render() -> None:
    f = current()
    ui.page_header("数据上传", f, "上传双公示、严重失信名单、市场主体名录、信用异议、工作要点进展台账等导出文件。")
    st.markdown(
        "支持 CSV（UTF-8 / GBK 等编码自动识别）和 Excel（.xlsx / .xls）文件，可一次选择多个文件。"
        "系统按表头自动识别数据集；同一记录再次上传会更新原记录，完全相同的记录不重复计入。"
    )
    override = st.selectbox(
        "数据集",
        [None, *UPLOADABLE],
        format_func=lambda n: "自动识别" if n is None else DATASETS[n].title,
        key="up_dataset",
        help="表头无法自动识别时，可手动指定数据集。",
    )
    covers_text = st.text_input(
        "覆盖期（可选）",
        key="up_covers",
        placeholder="如 2022-01-01..2022-12-31",
        help="文件覆盖的时段：其间没有记录的日子也算“已覆盖”（该周确无处罚），之外的时段显示为“未覆盖”而非 0。"
        "留空时取文件中最早至最晚的日期；市场主体名录、严重失信名单为快照日期，可只填一个日期，留空为上传当天。",
    )
    covers = None
    if covers_text.strip():
        try:
            covers = periods.parse_covers(covers_text)
        except periods.CoversError as exc:
            st.error(str(exc), icon=":material/error:")
            return
    files = st.file_uploader("选择文件", type=list(ACCEPTED_TYPES), accept_multiple_files=True, key="up_files")

    done: dict = st.session_state.setdefault(RESULTS_KEY, {})
    new = [u for u in files or [] if (u.file_id, override) not in done]
    if new:
        with st.spinner(f"正在导入 {len(new)} 个文件……"):
            user = auth.current_user()
            results = handle_upload(
                f.db,
                [(u.name, u.getvalue()) for u in new],
                dataset=override,
                user=user.name if user else None,
                covers=covers,
            )
        for u, result in zip(new, results, strict=True):
            done[(u.file_id, override)] = result
    current_keys = [(u.file_id, override) for u in files or []]
    shown = [done[k] for k in current_keys if k in done]
    if shown:
        loaded = sum(r.loaded + r.updated for r in shown)
        if loaded:
            st.success(
                f"已导入，新增或更新 {loaded:,} 条记录。其他页面已同步显示最新数据。", icon=":material/check_circle:"
            )
            ui.link("overview", "返回总览查看", f)
        for i, (key, result) in enumerate(zip([k for k in current_keys if k in done], shown, strict=True)):
            refill = show_result(i, result)
            if refill:
                dataset, fills = refill
                upload = next(u for u in files if (u.file_id, override) == key)
                user = auth.current_user()
                with st.spinner("正在重新导入……"):
                    done[key] = handle_upload(
                        f.db,
                        [(upload.name, upload.getvalue())],
                        dataset=dataset,
                        user=user.name if user else None,
                        covers=covers,
                        fills=fills,
                    )[0]
                st.rerun()

    st.subheader("上传记录")
    # The sidebar read the data version at the start of this run; only files loaded since have moved it.
    raw = data.uploads(f.db, data.version(f.db) if new else f.version)
    if raw.empty:
        st.info("还没有上传记录。", icon=":material/history:")
        return
    history = raw.assign(
        dataset=raw["dataset"].map(dataset_titles),
        encoding=raw["encoding"].fillna("—"),
        user_name=raw["user_name"].fillna("—"),
        status=raw["status"].map(lambda s: labels.UPLOAD_STATUS.get(s, s)),
    )
    ui.table(
        history,
        "up_history",
        extra_labels={"id": "编号", "status": "状态", "dataset": "数据集"},
        column_config={"上传时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
        height=min(420, 38 + 35 * len(history)),
    )
    undo_section(f, raw)


def _ask_undo(upload_id: int) -> None:
    st.session_state[UNDO_PENDING_KEY] = upload_id
    st.session_state.pop(UNDO_RESULT_KEY, None)


def _cancel_undo() -> None:
    st.session_state.pop(UNDO_PENDING_KEY, None)


def _confirm_undo(db: str, upload_id: int) -> None:
    """Undo (analytics.intake.undo writes the audit record in the same transaction) and keep its message."""
    st.session_state.pop(UNDO_PENDING_KEY, None)
    user = auth.acting_user("undo", "undo")
    if user is None:
        st.session_state[UNDO_RESULT_KEY] = (False, "当前账号已无撤销权限，未撤销。")
        return
    try:
        result = undo_upload(db, upload_id, user)
    except Exception as exc:  # a busy or broken database: a message, not a traceback
        st.session_state[UNDO_RESULT_KEY] = (False, f"撤销失败：{exc}")
        return
    st.session_state[UNDO_RESULT_KEY] = (result.ok, result.message)


def undo_section(f: Filters, history) -> None:
    """Admins: a button per upload that can be undone now, each asking for confirmation first."""
    user = auth.current_user()
    if not auth.allowed(user, "undo"):
        if auth.is_demo():
            st.caption(
                "演示模式不提供撤销上传。启用登录后由管理员在此撤销，或在服务器上运行 python -m analytics undo 上传编号。"
            )
        return
    st.subheader("撤销上传")
    st.caption(
        "撤销后，该上传新增的记录被删除、被它更新的记录恢复为上传前的数据；同一数据集须从最新的上传开始撤销。"
        "每次撤销都记入审计日志。"
    )
    outcome = st.session_state.get(UNDO_RESULT_KEY)
    if outcome:
        ok, message = outcome
        (st.success if ok else st.error)(message, icon=":material/undo:" if ok else ":material/error:")
    ids = undoable(history)
    if not ids:
        st.info("当前没有可以撤销的上传。", icon=":material/info:")
        return
    rows = history.set_index("id")
    pending = st.session_state.get(UNDO_PENDING_KEY)
    for upload_id in ids[:UNDO_SHOWN]:
        row = rows.loc[upload_id]
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            st.markdown(
                f"**#{upload_id}** {md(row['file_name'])} · {dataset_titles(row['dataset'])} · "
                f"{row['uploaded_at']:%Y-%m-%d %H:%M} · {md(row['user_name'] or '—')} · "
                f"新增 {int(row['loaded']):,} 行，更新 {int(row['updated']):,} 行",
                width="stretch",
            )
            if pending != upload_id:
                st.button(
                    "撤销",
                    key=f"undo_{upload_id}",
                    icon=":material/undo:",
                    on_click=_ask_undo,
                    args=(upload_id,),
                    width="content",
                )
        if pending == upload_id:
            st.warning(
                f"确定撤销上传 #{upload_id}（{md(row['file_name'])}）吗？将删除它新增的 {int(row['loaded']):,} 行，"
                f"并把它更新的 {int(row['updated']):,} 行恢复为上传前的数据。",
                icon=":material/warning:",
            )
            with st.container(horizontal=True):
                st.button(
                    "确认撤销",
                    key="undo_confirm",
                    type="primary",
                    on_click=_confirm_undo,
                    args=(f.db, upload_id),
                )
                st.button("取消", key="undo_cancel", on_click=_cancel_undo)
    if len(ids) > UNDO_SHOWN:
        st.caption(f"仅列出最新的 {UNDO_SHOWN} 个可撤销上传；更早的请用命令行 python -m analytics undo。")


if auth.require("upload", "数据上传"):
    ui.guarded(render)
