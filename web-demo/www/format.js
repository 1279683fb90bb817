// Point values, flags and times in words, and the ISA-101 quality classes.

/// The abnormal conditions of a point, most severe first: [{cls, text}]. Empty when normal.
export function abnormal(p, staleMs, now) {
  const out = [];
  const f = p.flags;
  if (f) {
    if (f.validity === "not_valid") out.push({ cls: "q-not-valid", text: "not valid" });
    else if (f.validity === "suspect") out.push({ cls: "q-suspect", text: "suspect" });
    else if (f.validity === "held") out.push({ cls: "q-held", text: "held" });
    if (f.off_normal) out.push({ cls: "q-off-normal", text: "off-normal" });
    if (f.timestamp_invalid) out.push({ cls: "q-ts-invalid", text: "time stamp invalid" });
  }
  if (p.value === "invalid" || p.value === "between")
    out.push({ cls: "q-not-valid", text: `state ${p.value}` });
  if (p.receivedAt !== undefined && now - p.receivedAt > staleMs) out.push({ cls: "q-stale", text: "stale" });
  return out;
}

/// The flags decoded: "valid telemetered" and the like.
export function flagsText(f) {
  if (!f) return "—";
  const parts = [f.validity.replace("_", " "), f.source];
  if (f.off_normal) parts.push("off-normal");
  if (f.timestamp_invalid) parts.push("ts invalid");
  return parts.join(" ");
}

export function valueText(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 1000 ? 1 : 3);
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/// A number for a trend: reals and discretes as they are, states on = 1, off = 0.
export function trendValue(v) {
  if (typeof v === "number") return v;
  if (v === "on") return 1;
  if (v === "off") return 0;
  if (v === "between") return 0.5;
  return null;
}

export function timestampMs(ts) {
  return ts ? ts.seconds * 1000 + (ts.ms || 0) : null;
}

export function timeText(ms) {
  if (ms === null) return "—";
  const d = new Date(ms);
  return d.toISOString().replace("T", " ").replace("Z", "").slice(0, 23);
}

export function ageText(ms) {
  if (ms < 0) ms = 0;
  if (ms < 60_000) return `${(ms / 1000).toFixed(0)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}
