// Times shown in the workspace's zone (the API answers UTC).
export function inZone(iso: string | null | undefined, timeZone: string, lang: string): string {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(lang, {
    timeZone,
    dateStyle: "short",
    timeStyle: "short",
  }).format(new Date(iso));
}

export function yuan(fen: number): string {
  return (fen / 100).toFixed(2);
}
