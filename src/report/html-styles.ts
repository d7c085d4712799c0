import { markup } from './html-escape.js';

/**
 * The page's only stylesheet, inline (the CSP allows inline styles and nothing else). Lane
 * colours are classes here, so no attribute carries a colour. Light and dark schemes.
 */
export const STYLE = markup`<style>
:root {
  --bg: #fff; --fg: #1b1f24; --muted: #5c6670; --line: #d8dee4; --panel: #f6f8fa; --pass: #1a7f37;
  --fail: #cf222e; --unknown: #9a6700; --na: #6e7781;
  --pass-bg: #dafbe1; --fail-bg: #ffebe9; --unknown-bg: #fff8c5; --ins: #dafbe1; --del: #ffebe9;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #30363d; --panel: #161b22; --pass: #3fb950;
    --fail: #f85149; --unknown: #d29922; --na: #8b949e;
    --pass-bg: #12261e; --fail-bg: #2d1214; --unknown-bg: #2b2111; --ins: #12261e; --del: #2d1214;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 0 16px 48px; }
h3, .message, p code, li code { overflow-wrap: anywhere; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 0 0 8px; }
h4 { font-size: 13px; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
h4 code { text-transform: none; letter-spacing: normal; overflow-wrap: anywhere; }
h5 { font-size: 13px; margin: 0 0 6px; }
a { color: inherit; }
code, pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; margin: 4px 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 32em; overflow: auto; }
pre.copy { user-select: all; }
table { border-collapse: collapse; margin: 6px 0; }
.wide { overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); }
.banner { padding: 16px; margin: 0 -16px 16px; border-bottom: 3px solid; }
.banner.pass { background: var(--pass-bg); border-color: var(--pass); }
.banner.fail { background: var(--fail-bg); border-color: var(--fail); }
.banner.unknown { background: var(--unknown-bg); border-color: var(--unknown); }
.banner p { margin: 4px 0 0; }
nav { margin: 8px 0; }
nav a { margin-right: 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 12px; }
.more { color: var(--muted); font-size: 12px; font-style: italic; }
.matrix thead th { vertical-align: bottom; }
.matrix td.cell { text-align: center; font-weight: bold; }
.matrix a { text-decoration: none; display: block; }
.pass, .sym.pass { color: var(--pass); }
.fail, .sym.fail { color: var(--fail); }
.unknown, .sym.unknown { color: var(--unknown); }
.not-applicable { color: var(--na); }
.badge { font-size: 12px; padding: 1px 6px; border-radius: 8px; border: 1px solid currentColor; }
.violation { border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 4px; padding: 10px 12px; margin: 12px 0; color: var(--fg); }
.defect { border-top: 2px solid var(--fail); margin: 20px 0 8px; padding-top: 8px; }
.violation.unknown { border-left-color: var(--unknown); }
.violation.compact { padding: 6px 12px; }
.violation .message { font-size: 15px; margin: 4px 0; }
.kind { font-family: ui-monospace, Menlo, Consolas, monospace; }
.expect, .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.expect div, .pane { min-width: 0; }
.expect p { margin: 0; background: var(--panel); padding: 6px 8px; border-radius: 4px; overflow-wrap: anywhere; }
.attempt { border-top: 1px dashed var(--line); padding: 8px 0; }
.attempt-head { margin: 0 0 6px; overflow-wrap: anywhere; }
.reqline { margin: 0 0 4px; overflow-wrap: anywhere; }
.status { padding: 0 4px; border-radius: 3px; background: var(--panel); }
.status.s2 { color: var(--pass); }
.status.s4 { color: var(--unknown); }
.status.s5 { color: var(--fail); }
pre.error { border-color: var(--fail); }
.hname { color: var(--muted); }
pre.diff span { display: block; }
pre.diff .ins, .note .ins { background: var(--ins); }
pre.diff .del, .note .del { background: var(--del); }
pre.diff .fold { color: var(--muted); font-style: italic; }
table.fields tr.changed td:first-child { border-left: 3px solid var(--unknown); }
table.fields tr.added td:first-child { border-left: 3px solid var(--pass); }
table.fields tr.removed td:first-child { border-left: 3px solid var(--fail); }
details { margin: 6px 0; }
table.rows td { font-size: 12px; overflow-wrap: anywhere; }
summary { cursor: pointer; overflow-wrap: anywhere; }
figure { margin: 8px 0; overflow-x: auto; }
figcaption { font-size: 12px; color: var(--muted); }
svg.chart { display: block; max-width: 100%; height: auto; font: 11px ui-monospace, Menlo, Consolas, monospace; }
/* On a narrow screen a chart shrinks only so far (its text stays 9 px or more), then scrolls in its figure. */
figure.timeline svg.chart { min-width: 720px; }
figure.histogram svg.chart { min-width: 480px; }
svg .label { fill: var(--fg); }
svg .label.strong { font-weight: bold; }
svg .axis { fill: var(--muted); }
svg .tick { stroke: var(--line); stroke-width: 1; }
svg .bar.open { opacity: 0.45; }
svg .end.ok { fill: var(--fg); }
svg .end.fail { fill: var(--fail); font-weight: bold; }
svg .end.info, svg .end.open { fill: var(--unknown); font-weight: bold; }
svg .probe { fill: var(--fg); }
svg .probe.bad { fill: var(--fail); }
svg .probe-mark { fill: var(--fg); }
svg .hist { fill: #4e79a7; }
svg .pct { stroke: var(--fail); stroke-dasharray: 3 2; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
.legend-item { margin-right: 10px; white-space: nowrap; }
.legend-item.text { white-space: normal; }
.lane0 { fill: #4e79a7; background: #4e79a7; }
.lane1 { fill: #f28e2b; background: #f28e2b; }
.lane2 { fill: #e15759; background: #e15759; }
.lane3 { fill: #76b7b2; background: #76b7b2; }
.lane4 { fill: #59a14f; background: #59a14f; }
.lane5 { fill: #edc948; background: #edc948; }
.lane6 { fill: #b07aa1; background: #b07aa1; }
.lane7 { fill: #ff9da7; background: #ff9da7; }
.lane8 { fill: #9c755f; background: #9c755f; }
.lane9 { fill: #bab0ac; background: #bab0ac; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media (max-width: 800px) { .expect, .pair { grid-template-columns: 1fr; } }
</style>`;
