export * from "./class-proxy";
export * from "./nginx-conf";
export * from "./student-bundle";
