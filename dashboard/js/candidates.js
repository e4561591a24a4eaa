// Turning what an operator types into what POST /polls takes: ids of a-z, 0-9 and "-" (the API's id pattern,
// GET /config's limits.id_pattern, is checked before sending).

export function slugify(text) {
  return text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 63)
    .replace(/-+$/, "");
}

// One label a line; each gets an id made from it, made distinct within the poll.
export function candidateList(text, maxLabel) {
  const seen = new Set();
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((label, index) => {
      const base = slugify(label) || `choice-${index + 1}`;
      let id = base;
      for (let n = 2; seen.has(id); n++) id = `${base.slice(0, 59)}-${n}`;
      seen.add(id);
      return { id, label: label.slice(0, maxLabel) };
    });
}

// A datetime-local value ("2026-11-23T10:00" in the browser's zone) as the API's UTC instant; null if empty.
export function localToInstant(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
