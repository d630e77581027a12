/**
 * What each student is given: their URL, token and database password, and the course's first
 * steps; and the teacher's index. Pure text from the roster, the configuration and the secrets.
 */
import type { Student } from "../../config/roster";
import type { WeekConfig } from "../../config/schema";
import { jupyterBaseUrl } from "../../constructs/classroom/nginx-conf";
import type { StudentSecrets } from "./secrets";

/** The class's URL: https://<serverName>:<port> */
export function classUrl(config: WeekConfig): string {
  const { serverName, hostPort } = config.classroom.proxy;
  return `https://${serverName}:${hostPort}`;
}

/** One student's sheet (Markdown). */
export function studentSheet(config: WeekConfig, student: Student, secrets: StudentSecrets): string {
  const base = `${classUrl(config)}/${student.id}`;
  const klass = config.classroom;
  const services = klass.services;
  const lines = [
    `# ${klass.course}: ${student.name}`,
    "",
    "Keep this file to yourself: the token opens your notebooks, and only yours.",
    "",
    "## Your environment",
    "",
    `- Jupyter: ${base}/`,
    `- Token (paste it on the login page): \`${secrets.jupyterToken}\``,
    `- Direct link (logs you in): ${classUrl(config)}${jupyterBaseUrl(student.id)}?token=${secrets.jupyterToken}`,
    `- PostgreSQL, from your notebooks and terminal: host \`database\`, port 5432, database \`${secrets.databaseName}\`, user \`${secrets.databaseUser}\`, password \`${secrets.databasePassword}\` (also in the \`DATABASE_URL\` variable of your sandbox)`,
    ...(services.includes("api") ? [`- Your API: ${base}/api/ (health: ${base}/api/health; predictions: POST ${base}/api/predict)`] : []),
    ...(services.includes("streamlit") ? [`- Your Streamlit app: ${base}/app/`] : []),
    ...(klass.courseData === undefined ? [] : ["- Course data (read-only): the `course-data` folder of your workspace"]),
    "",
    "## First steps",
    "",
    "1. Open your Jupyter link and log in with your token.",
    "2. Open a terminal (New > Terminal) and check your git identity: `git config --global --list`.",
    student.repositoryUrl === undefined && config.sandbox.gitRepositoryUrl === undefined
      ? "3. Clone your repository into the workspace: `git clone <your repository URL>`."
      : "3. Your repository is cloned into your workspace: Jupyter opens at its root.",
    "4. Check the database answers: `python -c \"import os, psycopg; psycopg.connect(os.environ['DATABASE_URL']).close(); print('ok')\"`.",
    `5. Push your work twice a day, before ${klass.deadlines.join(" and ")} (${klass.timezone}).`,
    "",
    "Your notebooks live on your own volume: they survive restarts of your environment.",
    "",
  ];
  return lines.join("\n");
}

/** The teacher's index (Markdown): one line per student, no secret. */
export function teacherIndex(config: WeekConfig, students: readonly Student[]): string {
  return [
    `# ${config.classroom.course}: ${students.length} students`,
    "",
    `Class URL: ${classUrl(config)}/ (each student under /<id>/). Each student's sheet is <id>.md in this folder; hand each one only their own.`,
    "",
    "| id | name | email | Jupyter | sheet |",
    "| --- | --- | --- | --- | --- |",
    ...students.map((s) => `| ${s.id} | ${s.name.replace(/\|/g, "\\|")} | ${s.email} | ${classUrl(config)}/${s.id}/ | ${s.id}.md |`),
    "",
  ].join("\n");
}
