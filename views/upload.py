"""数据上传 (analysts): load exports, see what was detected, accepted and rejected, and the upload history."""

from __future__ import annotations

import streamlit as st

from analytics.datasets import DATASETS, UPLOADABLE
from dashboard import data, exporting, labels, ui
from dashboard.filters import current
from dashboard.uploads import ACCEPTED_TYPES, chinese_preview, dataset_titles, errors_frame, handle_upload

RESULTS_KEY = "upload_results"


def show_result(index: int, result) -> None:
    ok = result.ok
    with st.container(border=True):
        st.markdown(f"#### {':material/check_circle:' if ok else ':material/cancel:'} {result.file}")
        st.caption(f"识别为：{dataset_titles(result.dataset)} · 编码：{result.encoding or '—'}")
        if result.message:
            (st.warning if ok else st.error)(result.message)
        cols = st.columns(5)
        for col, (label, value) in zip(
            cols,
            (
                ("读取行数", result.rows_read),
                ("新增", result.loaded),
                ("更新", result.updated),
                ("未变", result.unchanged),
                ("拒收", result.rejected),
            ),
            strict=True,
        ):
            col.metric(label, f"{value:,}")
        preview = chinese_preview(result)
        if preview is not None and len(preview):
            with st.expander(f"预览（前 {len(preview)} 行已接收数据）", expanded=False):
                st.dataframe(preview, hide_index=True, key=f"up_preview_{index}")
        if result.rejected:
            st.markdown(f"**拒收的 {result.rejected} 行及原因**（可下载修改后重新上传）")
            rejected = result.rejected_rows
            if rejected is not None and len(rejected):
                st.dataframe(
                    rejected, hide_index=True, key=f"up_rejected_{index}", height=min(400, 38 + 35 * len(rejected))
                )
                st.download_button(
                    "下载拒收行（CSV）",
                    exporting.to_csv_bytes(rejected),
                    file_name=f"拒收行_{result.file.rsplit('.', 1)[0]}.csv",
                    mime="text/csv",
                    key=f"up_dl_rejected_{index}",
                    icon=":material/download:",
                    on_click="ignore",
                )
            else:
                st.dataframe(errors_frame(result), hide_index=True, key=f"up_errors_{index}")


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
    files = st.file_uploader("选择文件", type=list(ACCEPTED_TYPES), accept_multiple_files=True, key="up_files")

    done: dict = st.session_state.setdefault(RESULTS_KEY, {})
    new = [u for u in files or [] if (u.file_id, override) not in done]
    if new:
        with st.spinner(f"正在导入 {len(new)} 个文件……"):
            results = handle_upload(f.db, [(u.name, u.getvalue()) for u in new], dataset=override)
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
        for i, result in enumerate(shown):
            show_result(i, result)

    st.subheader("上传记录")
    history = data.uploads(f.db, data.version(f.db))
    if history.empty:
        st.info("还没有上传记录。", icon=":material/history:")
        return
    history = history.assign(
        dataset=history["dataset"].map(dataset_titles),
        encoding=history["encoding"].fillna("—"),
        user_name=history["user_name"].fillna("—"),
        status=history["status"].map(lambda s: labels.UPLOAD_STATUS.get(s, s)),
    )
    ui.table(
        history,
        "up_history",
        extra_labels={"id": "编号", "status": "状态", "dataset": "数据集"},
        column_config={"上传时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
        height=min(420, 38 + 35 * len(history)),
    )


ui.guarded(render)
