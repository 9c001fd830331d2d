const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses "90", "90s", "15m", "24h" or "14d" into whole seconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] || 's') as keyof typeof UNIT_SECONDS;
  return Number(match[1]) * UNIT_SECONDS[unit];
}

/** Whole seconds in the largest unit that divides them: 31536000 → "365d", 90 → "90s". */
export function formatDuration(seconds: number): string {
  const unit = (['d', 'h', 'm'] as const).find(
    (each) => seconds > 0 && seconds % UNIT_SECONDS[each] === 0,
  );
  return unit ? `${seconds / UNIT_SECONDS[unit]}${unit}` : `${seconds}s`;
}
