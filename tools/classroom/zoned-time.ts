/**
 * Wall-clock times of the course (a date and "11:30" in `classroom.timezone`) as instants, with the
 * platform's time-zone database (Intl, ICU): daylight-saving changes are the database's, not ours.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        second: "2-digit",
      });
    } catch {
      throw new Error(`classroom.timezone must be an IANA time zone such as Europe/Paris, got ${JSON.stringify(timeZone)}`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock fields of `instant` in `timeZone`. */
export function wallClock(instant: Date, timeZone: string): { date: string; time: string } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(instant).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}:${parts.second}` };
}

/** Offset of `timeZone` from UTC at `instantMs`, in milliseconds. */
function offsetMs(instantMs: number, timeZone: string): number {
  const { date, time } = wallClock(new Date(instantMs), timeZone);
  const [y, m, d] = date.split("-").map(Number);
  const [h, mi, s] = time.split(":").map(Number);
  return Date.UTC(y, m - 1, d, h, mi, s) - Math.floor(instantMs / 1000) * 1000;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Checks a YYYY-MM-DD date (a real one); `field` names it in the error. */
export function parseDate(value: string, field: string): string {
  const m = DATE.exec(value);
  const ok = m !== null && new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).toISOString().slice(0, 10) === value;
  if (!ok) throw new Error(`${field} must be a date as YYYY-MM-DD, got ${JSON.stringify(value)}`);
  return value;
}

/** Checks a HH:MM time; `field` names it in the error. */
export function parseTime(value: string, field: string): string {
  if (!TIME.test(value)) throw new Error(`${field} must be a time as HH:MM (24 h), got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The instant at which the clocks of `timeZone` read `date` `time` (HH:MM). A time skipped by a
 * spring-forward change is read with the offset before the change (02:30 becomes 03:30); a time
 * that happens twice in the autumn is its first occurrence.
 */
export function zonedInstant(date: string, time: string, timeZone: string): Date {
  const [y, m, d] = date.split("-").map(Number);
  const [h, mi] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, h, mi);
  // two candidates, one per offset around the wall time; keep the earliest that reads back right
  const candidates = [wall - offsetMs(wall - 86_400_000, timeZone), wall - offsetMs(wall + 86_400_000, timeZone)];
  const exact = candidates.filter((c) => offsetMs(c, timeZone) === wall - c).sort((a, b) => a - b);
  return new Date(exact[0] ?? candidates[0]);
}

/** Today's date in `timeZone`, as YYYY-MM-DD. */
export function today(timeZone: string, now: Date = new Date()): string {
  return wallClock(now, timeZone).date;
}

/** Every date from `since` to `until`, both included. */
export function datesBetween(since: string, until: string): string[] {
  parseDate(since, "--since");
  parseDate(until, "--until");
  const out: string[] = [];
  const end = Date.parse(`${until}T00:00:00Z`);
  for (let t = Date.parse(`${since}T00:00:00Z`); t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  if (out.length === 0) throw new Error(`--since must not be after --until, got ${since} and ${until}`);
  if (out.length > 366) throw new Error(`--since to --until must span at most a year, got ${since} to ${until}`);
  return out;
}
