/**
 * The classroom section of the configuration: defaults, and one line per bad field.
 */
import * as fs from "fs";
import * as path from "path";
import { readRoster } from "../config/roster";
import { problemsOf, weekConfig } from "./helpers";

describe("classroom settings", () => {
  test("defaults: no roster, course week, loopback proxy on 8443, the course's deadlines", () => {
    const { classroom } = weekConfig();
    expect(classroom.roster).toBeUndefined();
    expect(classroom).toMatchObject({
      course: "week",
      services: ["sandbox", "database"],
      timezone: "Europe/Paris",
      deadlines: ["11:30", "16:30"],
      proxy: { hostPort: 8443, bindAddress: "127.0.0.1", serverName: "localhost" },
    });
  });

  test.each([
    [{ course: "M2" }, "classroom.course must be 1-20 characters of a-z, 0-9 and -, starting with a letter and not ending with a dash, got \"M2\""],
    [{ services: ["sandbox"] }, "classroom.services must include sandbox and database (every student gets them)"],
    [{ services: ["sandbox", "database", "streamlit"] }, "classroom.services must include api when it includes streamlit"],
    [{ services: ["sandbox", "database", "jupyterhub"] }, "classroom.services.2 must be one of sandbox, database, api, streamlit"],
    [{ timezone: "Paris" }, "classroom.timezone must be an IANA time zone such as Europe/Paris, got \"Paris\""],
    [{ deadlines: ["16:30", "11:30"] }, "classroom.deadlines must be in increasing order, each once"],
    [{ deadlines: ["25:00"] }, "classroom.deadlines.0 must be a time of day as HH:MM (24-hour clock), got \"25:00\""],
    [{ proxy: { bindAddress: "lab-server" } }, "classroom.proxy.bindAddress must be an IPv4 or IPv6 address such as 127.0.0.1 or 0.0.0.0, got \"lab-server\""],
    [{ proxy: { tlsCertificate: "cert.pem" } }, "classroom.proxy.tlsKey must be given with the other of tlsCertificate and tlsKey"],
    [{ proxy: { image: "nginx:latest" } }, "classroom.proxy.image must not use the tag latest"],
    [{ cpus: 0 }, "classroom.cpus must be a number of CPUs between 0.1 and 64, got 0"],
    [{ roster: "\u202Eroster.csv" }, "classroom.roster must not contain control or invisible characters"],
  ])("refuses %j", (classroom, message) => {
    expect(problemsOf({ classroom }).join("\n")).toContain(message);
  });

  test("the example configuration's roster is valid", () => {
    const root = path.join(__dirname, "..");
    const example = JSON.parse(fs.readFileSync(path.join(root, "week.config.example.json"), "utf8"));
    const roster = readRoster(weekConfig(example).classroom.roster as string, root);
    expect(roster.students.map((s) => s.id)).toEqual(["ada", "alan", "grace"]);
  });
});
