/**
 * The roster: one line per problem, naming the file, the line and the id; every problem at once.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseRoster, readRoster, RosterError } from "../config/roster";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "week-roster-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function problems(text: string): string[] {
  try {
    parseRoster(text, "roster.csv");
  } catch (error) {
    expect(error).toBeInstanceOf(RosterError);
    return (error as RosterError).problems;
  }
  throw new Error("expected the roster to be refused");
}

const HEADER = "id,name,email\n";

describe("readRoster", () => {
  test("reads students with their line numbers and optional columns", () => {
    fs.writeFileSync(
      path.join(dir, "r.csv"),
      "id,name,email,git_user_name,repository_url,api_url\n" +
        "alice,Alice Martin,alice@example.com,alice-m,https://github.com/alice/week.git,https://alice-api.herokuapp.com\n" +
        "\n" +
        'bob,"Bob, Jr.",bob@example.com,,,\n',
    );
    const roster = readRoster("r.csv", dir);
    expect(roster.file).toBe("r.csv");
    expect(roster.students).toEqual([
      {
        id: "alice",
        name: "Alice Martin",
        email: "alice@example.com",
        gitUserName: "alice-m",
        repositoryUrl: "https://github.com/alice/week.git",
        apiUrl: "https://alice-api.herokuapp.com",
        line: 2,
      },
      { id: "bob", name: "Bob, Jr.", email: "bob@example.com", line: 4 },
    ]);
  });

  test("accepts a byte order mark and CRLF line ends, as spreadsheets save them", () => {
    fs.writeFileSync(path.join(dir, "r.csv"), "\uFEFFid,name,email\r\nalice,Alice,alice@example.com\r\n");
    expect(readRoster("r.csv", dir).students.map((s) => s.id)).toEqual(["alice"]);
  });

  test("a missing file is one line naming it", () => {
    expect(() => readRoster("missing.csv", dir)).toThrow(new RosterError("missing.csv", ["missing.csv does not exist (classroom.roster)"]));
  });

  test("a folder, or a file that cannot be read, is one line naming it", () => {
    fs.mkdirSync(path.join(dir, "folder.csv"));
    expect(() => readRoster("folder.csv", dir)).toThrow("folder.csv is a folder, not a file");
    fs.writeFileSync(path.join(dir, "bin.csv"), Buffer.from([0x69, 0x64, 0x00]));
    expect(() => readRoster("bin.csv", dir)).toThrow(/bin.csv holds a NUL byte/);
  });
});

describe("refused rosters", () => {
  test("duplicate ids name both lines", () => {
    expect(problems(HEADER + "alice,A,a@example.com\nbob,B,b@example.com\nalice,A2,a2@example.com\n")).toEqual([
      'roster.csv line 4 (id "alice"): id is already used on line 2',
    ]);
  });

  test.each([
    ["Alice", 'id must be 1-30 characters of a-z, 0-9 and -, starting with a letter and not ending with a dash, got "Alice" (try "alice")'],
    ["1st", "starting with a letter"],
    ["al_ice", "of a-z, 0-9 and -"],
    ["alice-", "not ending with a dash"],
    ["a".repeat(31), "1-30 characters"],
  ])("a bad id %s is refused", (id, message) => {
    const [problem] = problems(`${HEADER}${id},A,a@example.com\n`);
    expect(problem).toContain(`roster.csv line 2 (id ${JSON.stringify(id)}): `);
    expect(problem).toContain(message);
  });

  test("a missing column, an unknown column and a column twice are each one line", () => {
    expect(problems("id,name,mail\nalice,A,a@example.com\n")).toEqual([
      'roster.csv line 1: "mail" is not a known column (known: id, name, email, git_user_name, git_user_email, repository_url, api_url)',
      "roster.csv line 1: the header misses the column email (it needs id,name,email)",
    ]);
    expect(problems("id,name,email,name\nalice,A,a@example.com,B\n")).toEqual(["roster.csv line 1: the column name appears twice"]);
  });

  test("a line with too few fields names its line", () => {
    expect(problems(HEADER + "alice,A\n")).toEqual(['roster.csv line 2 (id "alice"): has 2 fields, the header has 3']);
  });

  test("control and invisible characters are refused with their code point", () => {
    expect(problems(HEADER + "alice,Ali\u200Bce,a@example.com\n")).toEqual([
      'roster.csv line 2 (id "alice"): name must not contain control or invisible characters (U+200B at position 4), got "Ali\u200Bce"',
    ]);
    expect(problems(HEADER + "al\u202Eice,A,a@example.com\n")[0]).toMatch(/^roster.csv line 2: id must not contain control or invisible characters \(U\+202E/);
  });

  test("bad e-mails, duplicate e-mails and option-like names are refused", () => {
    expect(problems(HEADER + "alice,A,not-an-email\nbob,-oProxy,b@example.com\ncarol,C,B@example.com\n")).toEqual([
      'roster.csv line 2 (id "alice"): email must be an e-mail address such as student@example.com, got "not-an-email"',
      'roster.csv line 3 (id "bob"): name must not start with a dash (it would be read as an option), got "-oProxy"',
      'roster.csv line 4 (id "carol"): email is already bob\'s',
    ]);
  });

  test("URLs with credentials are refused and never shown", () => {
    const [repo] = problems("id,name,email,repository_url\nalice,A,a@example.com,https://alice:ghp_secret@github.com/a/b.git\n");
    expect(repo).toContain("repository_url must not contain a user, password or token");
    expect(repo).not.toContain("ghp_secret");
    const [api] = problems("id,name,email,api_url\nalice,A,a@example.com,https://api.example.com/?token=abc123\n");
    expect(api).toContain("api_url must not carry a token in its query");
    expect(api).not.toContain("abc123");
    expect(problems("id,name,email,api_url\nalice,A,a@example.com,ftp://x\n")[0]).toContain("api_url must be an http:// or https:// URL");
  });

  test("every problem of the file is reported at once", () => {
    expect(problems(HEADER + "Alice,A,a@example.com\nbob,,b@example.com\nbob,B,bad\n")).toHaveLength(4);
  });

  test("an empty file, a header alone, semicolons and broken quoting are one line each", () => {
    expect(problems("")).toEqual(["roster.csv is empty; it needs the header id,name,email and one line per student"]);
    expect(problems(HEADER)).toEqual(["roster.csv holds no student: add one line per student under the header"]);
    expect(problems("id;name;email\nalice;A;a@example.com\n")[0]).toContain("separated by semicolons");
    expect(problems(HEADER + 'alice,"A,a@example.com\n')[0]).toMatch(/^roster.csv is not valid CSV: /);
  });
});
