/**
 * `npm run classroom -- status [--wait SECONDS]`: one line per student: each container up and
 * healthy, memory used, and the last activity in Jupyter (its /api/status, asked through the
 * class's proxy with the student's token); then one line saying whether the whole class is
 * ready (every student's containers running and healthy), exit 1 when it is not. `--wait`
 * waits for that first, up to SECONDS: `npx cdktf deploy classroom` returns once the containers
 * are created (a class waits for no healthcheck, see CLASS_PROBES), so
 * `npx cdktf deploy classroom && npm run classroom -- status --wait 300` is the class's deploy.
 */
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { Command, InvalidArgumentError } from "commander";
import type { Student } from "../../../config/roster";
import type { WeekConfig } from "../../../config/schema";
import { jupyterBaseUrl } from "../../../constructs/classroom/nginx-conf";
import { studentPrefix } from "../../../constructs/classroom/student-bundle";
import { loadClassroom } from "../context";
import { docker } from "../docker";
import { readStudentSecrets, selfSignedFiles } from "../secrets";

interface ContainerState {
  readonly state: string;
  readonly health?: string;
}

/** `2 minutes ago`-style age of an ISO time, or the time itself when it does not parse. */
export function age(iso: string, now: Date = new Date()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now.getTime() - t) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${(s / 3600).toFixed(1)} h ago`;
}

/** Jupyter's last_activity through the proxy, or why it is unknown. */
function lastActivity(config: WeekConfig, root: string, id: string, token: string): Promise<string> {
  const proxy = config.classroom.proxy;
  const ca = proxy.tlsCertificate === undefined ? path.join(root, selfSignedFiles(config.classroom.course).certificate) : undefined;
  const host = proxy.bindAddress === "0.0.0.0" || proxy.bindAddress === "::" ? "127.0.0.1" : proxy.bindAddress;
  return new Promise((resolve) => {
    const request = https.request(
      {
        host,
        port: proxy.hostPort,
        path: `${jupyterBaseUrl(id)}api/status`,
        servername: proxy.serverName,
        headers: { Authorization: `token ${token}`, Host: `${proxy.serverName}:${proxy.hostPort}` },
        ca: ca !== undefined && fs.existsSync(ca) ? fs.readFileSync(ca) : undefined,
        timeout: 5000,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          if (response.statusCode !== 200) return resolve(`jupyter answers ${response.statusCode}`);
          try {
            const activity = (JSON.parse(body) as { last_activity?: string }).last_activity;
            resolve(activity === undefined ? "no activity reported" : `last activity ${age(activity)}`);
          } catch {
            resolve("jupyter's answer is not JSON");
          }
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error("no answer within 5 s")));
    request.on("error", (error) => resolve(`jupyter unreachable (${error.message})`));
    request.end();
  });
}

/** Every container of the course, as `docker ps -a` reports it, by name. */
function containerStates(course: string): Map<string, ContainerState> {
  const states = new Map<string, ContainerState>();
  for (const line of docker(["ps", "-a", "--filter", `label=course=${course}`, "--format", "{{.Names}}\t{{.State}}\t{{.Status}}"]).split("\n")) {
    const [name, state, status = ""] = line.split("\t");
    if (name) states.set(name, { state, health: /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1] });
  }
  return states;
}

/** A service's state in a word: missing, the container's state, or its health when it runs. */
function serviceState(state: ContainerState | undefined): string {
  if (state === undefined) return "missing";
  return state.state === "running" ? (state.health ?? "up") : state.state;
}

/** The student's services that are not running and healthy, with their state. */
function notReady(services: readonly string[], states: ReadonlyMap<string, ContainerState>, prefix: string): string[] {
  return services.map((service) => [service, serviceState(states.get(`${prefix}-${service}`))]).filter(([, state]) => state !== "healthy").map(([service, state]) => `${service} ${state}`);
}

function waitSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 3600) throw new InvalidArgumentError(`must be a whole number of seconds between 1 and 3600, got ${JSON.stringify(value)}`);
  return n;
}

export function command(): Command {
  return new Command("status")
    .description("one line per student: containers up/healthy, memory used, last activity in Jupyter; exit 1 unless the whole class is ready")
    .option("--wait <seconds>", "first wait until every student's containers run and are healthy, up to SECONDS", waitSeconds)
    .action(async (options: { wait?: number }) => {
      const { config, roster, root } = loadClassroom();
      const course = config.classroom.course;
      const services = config.classroom.services;
      const pending = (states: ReadonlyMap<string, ContainerState>) =>
        roster.students.map((s): [Student, string[]] => [s, notReady(services, states, studentPrefix(course, s.id))]).filter(([, waiting]) => waiting.length > 0);
      let states = containerStates(course);
      if (options.wait !== undefined) {
        const started = Date.now();
        let said = -1;
        for (let left = pending(states); left.length > 0 && Date.now() - started < options.wait * 1000; left = pending(states)) {
          if (left.length !== said) {
            console.error(`status: ${roster.students.length - left.length} of ${roster.students.length} students ready after ${Math.round((Date.now() - started) / 1000)} s; waiting (up to ${options.wait} s)`);
            said = left.length;
          }
          await new Promise((resolve) => setTimeout(resolve, 2000));
          states = containerStates(course);
        }
      }
      const running = [...states].filter(([, s]) => s.state === "running").map(([n]) => n);
      const memory = new Map<string, number>();
      if (running.length > 0) {
        for (const line of docker(["stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", ...running]).split("\n")) {
          const [name, usage = ""] = line.split("\t");
          const m = /^([\d.]+)\s*([KMG]i?B)/.exec(usage);
          if (name && m) memory.set(name, Number(m[1]) * ({ KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 } as Record<string, number>)[m[2]]);
        }
      }
      for (const student of roster.students) {
        const prefix = studentPrefix(course, student.id);
        let total = 0;
        const parts = services.map((service) => {
          total += memory.get(`${prefix}-${service}`) ?? 0;
          return `${service} ${serviceState(states.get(`${prefix}-${service}`))}`;
        });
        const secrets = readStudentSecrets(root, course, student.id);
        const activity = secrets === undefined ? "no secrets yet (run synth)" : states.get(`${prefix}-sandbox`)?.state === "running" ? await lastActivity(config, root, student.id, secrets.jupyterToken) : "jupyter not running";
        console.log(`${student.id}\t${parts.join(", ")}\t${Math.round(total)} MiB\t${activity}`);
      }
      const left = pending(states);
      if (left.length === 0) {
        console.error(`status: all ${roster.students.length} students ready (every container running and healthy)`);
      } else {
        console.error(`status: ${left.length} of ${roster.students.length} students not ready: ${left.map(([s, waiting]) => `${s.id} (${waiting.join(", ")})`).join("; ")}`);
        process.exitCode = 1;
      }
    });
}
