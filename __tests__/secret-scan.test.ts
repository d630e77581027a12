import { describeFindings, scanText, scanValue } from "../policies/secret-scan";

// Token-shaped test values are assembled at run time, so this file holds no literal a scanner of the repository would flag.
const repeat = (s: string, n: number) => s.repeat(n);
const GITHUB = `ghp_${repeat("A1b2", 9)}`;
const GITHUB_PAT = `github_pat_${repeat("x9", 41)}`;
const SLACK = ["xoxb", "123456789012", "1234567890123", repeat("abcd", 6)].join("-");
const STRIPE = `sk_${"live"}_${repeat("a1B2", 6)}`;
const GOOGLE = `AIza${"Sy"}${repeat("b7", 16)}X`;
const AWS_ID = `AKIA${"IOSFODNN7EXAMPLE"}`;
const JWT = ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "abcdefghijklmnop"].join(".");
const OPENAI = `sk-proj-${repeat("Ab3d_", 14)}Ab3dT3BlbkFJ${repeat("Ab3d_", 14)}Ab3d`;

const kinds = (text: string) => scanText(text).map((f) => f.kind);

describe("scanText finds credentials by content, whatever name carries them", () => {
  const bad: Array<[string, string]> = [
    ["a GitHub token alone", GITHUB],
    ["a fine-grained GitHub token", `token is ${GITHUB_PAT}`],
    ["a GitHub token as a URL's user", `https://${GITHUB}@github.com/o/r.git`],
    ["a long token as a URL's user", `git clone https://${repeat("z", 40)}@git.example.org/r`],
    ["a Slack token", SLACK],
    ["a Stripe live key", `STRIPE=${STRIPE}`],
    ["a Google API key", `https://maps.example.com/api?k=${GOOGLE}`],
    ["an AWS access key id", AWS_ID],
    ["an AWS secret key assignment", `aws_secret_access_key=${repeat("wJalrXUtnFEMI/K7MDENG", 2)}`],
    ["a JSON web token", `Authorization: Bearer ${JWT}`],
    ["an OpenAI key", OPENAI],
    ["an OpenSSH private key block", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----"],
    ["an RSA private key block", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"],
    ["a PGP private key block", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"],
    ["PuTTY key text", "PuTTY-User-Key-File-3: ssh-ed25519\n"],
    ["a PostgreSQL URL with a password", "postgres://week:hunter2@db:5432/week"],
    ["a MySQL URL with a password", "mysql://root:pw@db/x"],
    ["an AMQP URL with a password", "amqp://guest:guest@rabbit:5672/"],
    ["a redis URL with only a password", "redis://:s3cret@cache:6379/0"],
    ["a libpq DSN with a password", "host=db port=5432 user=week password=hunter2 dbname=week"],
    ["a libpq DSN with a quoted password", "host=db password='hunter 2'"],
    ["a JDBC URL with ;password=", "jdbc:sqlserver://db:1433;user=sa;password=Hunter2!"],
    ["a JDBC URL with &password=", "jdbc:postgresql://db/week?user=week&password=hunter2"],
    ["a query ?password=", "https://db.example.com/x?password=hunter2"],
    ["a query ?access_token=", "https://api.example.com/v1?access_token=abc123"],
    ["a fragment #access_token=", "https://app.example.com/cb#access_token=abc123&state=1"],
    ["an upper-case PASSWORD= in a shell line", "PGPASSWORD=hunter2 psql -h db"],
    ["a --password= flag", "psql --password=hunter2"],
    ["a --password flag and its value", "mysql --password hunter2 -h db"],
    ["a client_secret parameter", "client_id=a&client_secret=b4c5"],
  ];
  it.each(bad)("finds %s", (_label, text) => {
    expect(scanText(text).length).toBeGreaterThan(0);
  });

  const good: Array<[string, string]> = [
    ["a URL with a user and no password", "postgres://week@db:5432/week"],
    ["a git URL with the git user", "ssh://git@github.com/o/r.git"],
    ["an https repository URL", "https://github.com/mlops-course/week.git"],
    ["a command without a secret", "pg_isready -U week -d week"],
    ["a password read from a file", "password_file=/run/secrets/db"],
    ["a password from the environment", "PGPASSWORD=$DB_PASSWORD psql"],
    ["a braced shell variable", "--IdentityProvider.token=${JUPYTER_TOKEN}"],
    ["an empty password", "--ServerApp.password=''"],
    ["a switch named like a token", "use_token=true"],
    ["a restart policy", "unless-stopped"],
    ["a digest", "postgres@sha256:" + "a".repeat(64)],
  ];
  it.each(good)("passes %s", (_label, text) => {
    expect(kinds(text)).toEqual([]);
  });

  it("uses secretlint's recommended rules (a provider format our own list does not hold)", () => {
    expect(kinds(OPENAI).some((k) => k.startsWith("secretlint/"))).toBe(true);
  });

  it("cannot be silenced by a secretlint-disable comment inside the scanned text", () => {
    expect(kinds(`# secretlint-disable\n${SLACK}\n# secretlint-enable`)).toContain("slack-token");
    expect(kinds(`# secretlint-disable\n${SLACK}`).filter((k) => k.startsWith("secretlint/")).length).toBeGreaterThan(0);
  });

  it("says where a secret is and what kind it is, never its value", () => {
    const text = `x postgres://week:hunter2@db/week`;
    const findings = scanText(text);
    expect(findings.map((f) => f.kind)).toContain("url-password");
    const slot = findings.find((f) => f.kind === "url-password")!;
    expect(text.slice(slot.index, slot.end)).toBe("hunter2");
    expect(JSON.stringify(findings)).not.toContain("hunter2");
    expect(describeFindings(findings)).not.toContain("hunter2");
  });
});

describe("scanValue judges Terraform values: secret references may fill a credential slot, other expressions may not", () => {
  const isSecretReference = (e: string) => /random_password\.\w+\.result|var\.db_password/.test(e);
  const found = (text: string) => scanValue(text, isSecretReference).map((f) => f.kind);

  it("allows a URL whose password is a generated password", () => {
    expect(found("postgres://week:${random_password.db.result}@db:5432/week")).toEqual([]);
  });
  it("allows a DSN whose password is a sensitive variable", () => {
    expect(found("host=db password=${var.db_password} dbname=week")).toEqual([]);
  });
  it("refuses a password slot filled by an expression that is not a secret source", () => {
    expect(found("postgres://week:${var.plain}@db/week")).toEqual(["url-password-expression"]);
    expect(found('host=db password=${"hunter2"}')).toEqual(["password-parameter-expression"]);
  });
  it("finds a token written inside an expression", () => {
    expect(found(`\${"${GITHUB}"}`)).toContain("github-token");
  });
  it("finds a literal password next to an allowed reference", () => {
    expect(found("postgres://week:${random_password.db.result}@db/week?password=hunter2")).toEqual(["password-parameter"]);
  });
  it("treats $${...} and a bare ${NAME} as shell variables, not expressions", () => {
    expect(found("PGPASSWORD=$${DB_PASSWORD} psql")).toEqual([]);
    expect(found("PGPASSWORD=${DB_PASSWORD} psql")).toEqual([]);
  });
  it("lets a printf directive fill a password slot (the value is an argument given elsewhere)", () => {
    expect(found(`printf 'POSTGRES_PASSWORD=%s\\n' "$POSTGRES_PASSWORD"`)).toEqual([]);
    expect(found(`printf 'POSTGRES_PASSWORD=hunter2\\n'`)).toEqual(["password-parameter"]);
  });
});
