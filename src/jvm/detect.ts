/**
 * Is this a JVM? For `replay --app` (a shell command) and for a pod's app container when its
 * `capture.reprise.dev/java` annotation is absent. Setting JAVA_TOOL_OPTIONS on something that
 * is not a JVM is harmless (nothing else reads it), so detection leans towards yes, but it can
 * only see what the spec or the command line shows: a JVM started from a script or an image's
 * own entrypoint needs the annotation (or `java` in the --app command).
 */

/** Launchers that run a JVM (build tools start the app in it, or in a child that inherits the env). */
const LAUNCHERS = new Set(['java', 'javaw', 'jshell', 'mvn', 'mvnw', 'gradle', 'gradlew', 'sbt', 'jbang']);
/** Environment variables only JVM setups carry. */
const JVM_ENV = new Set(['JAVA_HOME', 'JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', 'JAVA_OPTS']);
/** Image names of the common JDK/JRE distributions (eclipse-temurin:17-jre, amazoncorretto, ...). */
const JVM_IMAGE =
  /(^|[/._-])(openjdk|temurin|corretto|zulu|semeru|sapmachine|liberica|graalvm|jdk|jre|java)([/:._-]|\d|$)/i;

function isJvmWord(word: string): boolean {
  const bare = word.replace(/^['"]+|['"]+$/g, '');
  const base = bare.slice(bare.lastIndexOf('/') + 1);
  return LAUNCHERS.has(base) || (base.endsWith('.jar') && base.length > 4);
}

/** `java -jar app.jar`, `$JAVA_HOME/bin/java ...`, `./app.jar`, `cd svc && ./mvnw spring-boot:run`. */
export function isJvmCommand(command: string): boolean {
  return command.split(/[\s;&|()]+/).some(isJvmWord);
}

/** The parts of a Kubernetes container detection looks at. */
export interface ContainerShape {
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string }[];
}

export function isJvmContainer(c: ContainerShape): boolean {
  if ([...(c.command ?? []), ...(c.args ?? [])].some((part) => isJvmCommand(part))) return true;
  if (c.env?.some((e) => JVM_ENV.has(e.name))) return true;
  const image = (c.image ?? '').replace(/@sha256:.*$/, '');
  return JVM_IMAGE.test(image);
}
