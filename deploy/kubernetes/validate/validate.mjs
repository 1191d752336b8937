// Validates every object of a multi-document YAML file (kubectl kustomize output) against the Kubernetes API's JSON
// schema as the kubernetes-models package ships it (Kubernetes 1.27.1 for version 5.1.0; package.json pins it).
// Usage: node validate.mjs <file.yaml>. Prints one line per object: "ok <kind>/<name>" or "invalid <kind>/<name>: …";
// exits 1 when any object is invalid or of a kind the package does not know.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs <file.yaml>");
  process.exit(2);
}

let failures = 0;
for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
  if (document.errors.length > 0) {
    console.log(`invalid YAML: ${document.errors[0].message}`);
    failures++;
    continue;
  }

  const object = document.toJS();
  if (object === null) {
    continue;
  }

  const label = `${object.kind}/${object.metadata?.name}`;
  // kustomize's secretGenerator wraps base64 data at 70 columns, which the API server decodes (Go's base64 skips line
  // breaks) but the schema's "byte" format does not allow: validate the value without them.
  if (object.kind === "Secret" && object.data) {
    for (const key of Object.keys(object.data)) {
      object.data[key] = String(object.data[key]).replace(/[\r\n]/g, "");
    }
  }

  // "apps/v1" -> kubernetes-models/apps/v1/<Kind>; the core group "v1" -> kubernetes-models/v1/<Kind>.
  const modulePath = `kubernetes-models/${object.apiVersion}/${object.kind}`;
  let model;
  try {
    model = (await import(modulePath))[object.kind];
  } catch {
    model = undefined;
  }

  if (typeof model !== "function") {
    console.log(`invalid ${label}: unknown apiVersion/kind ${object.apiVersion} ${object.kind}`);
    failures++;
    continue;
  }

  try {
    new model(object).validate();
    console.log(`ok ${label}`);
  } catch (error) {
    console.log(`invalid ${label}: ${error.message.split("\n")[0]}`);
    failures++;
  }
}

process.exit(failures > 0 ? 1 : 0);
