// mwalign's book: data tables (pandas' "dataframe" tables in cell outputs) read at a glance.
//
// 1. A table whose row index is pandas' default 0, 1, 2, ... (an unnamed index that numbers the rows) shows
//    no index: those cells get the class mw-default-index, which mwalign.css hides.
// 2. The row labels (the leading header cells of each row; the first column when a table has no index) get
//    the class mw-row-label and a sticky left offset, so a table wider than the text column scrolls under
//    them and a reader never scrolls away from the row a number belongs to.
(function () {
  "use strict";

  function hideDefaultIndex(table) {
    const body = table.tBodies[0];
    if (!body || !body.rows.length || table.querySelector("th.index_name")) return;
    const heads = [...body.rows].map((row) => row.cells[0]);
    const numbered = heads.every((cell, i) => cell.tagName === "TH" && cell.classList.contains("row_heading")
      && cell.classList.contains("level0") && !cell.hasAttribute("rowspan") && cell.textContent.trim() === String(i));
    if (!numbered || [...body.rows].some((row) => row.cells.length > 1 && row.cells[1].tagName === "TH")) return;
    heads.forEach((cell) => cell.classList.add("mw-default-index"));
    if (table.tHead) {
      for (const row of table.tHead.rows) {
        const first = row.cells[0];
        if (first && first.tagName === "TH" && first.classList.contains("blank")) first.classList.add("mw-default-index");
      }
    }
  }

  function visibleCells(row) {
    return [...row.cells].filter((cell) => !cell.classList.contains("mw-default-index"));
  }

  function stickRowLabels(table) {
    const body = table.tBodies[0];
    if (!body || !body.rows.length) return;
    for (const cell of table.querySelectorAll(".mw-row-label")) {
      cell.classList.remove("mw-row-label", "mw-row-label-edge");
      cell.style.left = "";
    }
    // The labels end where the first data cell of a row begins (the first column if a row has no header cell).
    let edge = 0;
    for (const row of body.rows) {
      const cells = visibleCells(row);
      const firstData = cells.findIndex((cell) => cell.tagName === "TD");
      const labels = firstData > 0 ? cells.slice(0, firstData) : cells.slice(0, 1);
      for (const cell of labels) edge = Math.max(edge, cell.offsetLeft + cell.offsetWidth);
    }
    const marks = [];
    for (const row of table.rows) {
      for (const cell of visibleCells(row)) {
        if (cell.offsetLeft + cell.offsetWidth > edge + 1) break;
        marks.push([cell, cell.offsetLeft, cell.offsetLeft + cell.offsetWidth >= edge - 1]);
      }
    }
    for (const [cell, left, last] of marks) {
      cell.classList.add("mw-row-label");
      if (last) cell.classList.add("mw-row-label-edge");
      cell.style.left = left + "px";
    }
    // The note under a wide table stays readable: as wide as the visible part of the table, and stuck there.
    const caption = table.caption, box = table.closest(".output");
    if (caption && box) {
      caption.style.maxWidth = "";
      if (table.offsetWidth > box.clientWidth + 1) {
        caption.classList.add("mw-row-label");
        caption.style.left = "0px";
        caption.style.maxWidth = box.clientWidth + "px";
      }
    }
  }

  function arrange() {
    for (const table of document.querySelectorAll(".bd-article table.dataframe")) {
      hideDefaultIndex(table);
      stickRowLabels(table);
    }
  }

  let pending = null;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(arrange);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", arrange);
  else arrange();
  window.addEventListener("load", arrange); // again once fonts and images have their final sizes
})();
