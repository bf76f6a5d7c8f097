{{/* The chart's name, or nameOverride. */}}
{{- define "chathub-operator-worker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the release's objects: fullnameOverride, else the release name
when it already holds the chart's name, else both joined.
*/}}
{{- define "chathub-operator-worker.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select the release's pods; they never change after install. */}}
{{- define "chathub-operator-worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chathub-operator-worker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The labels of every object. */}}
{{- define "chathub-operator-worker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "chathub-operator-worker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The image: by digest when image.digest is set, else by tag. */}}
{{- define "chathub-operator-worker.image" -}}
{{- with .Values.image.digest }}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" .) }}
{{- fail (printf "image.digest %q is not sha256: and 64 hex digits" .) }}
{{- end }}
{{- printf "%s@%s" $.Values.image.repository . }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The files the worker reads, as a list of dicts: the variable, the volume,
the Secret, its mount path, and the keys (key: file name) it shows there.
The token always; the NATS files whose secretName is set.
*/}}
{{- define "chathub-operator-worker.files" -}}
{{- $n := .Values.nats }}
{{- if and $n.creds.secretName $n.nkey.secretName }}
{{- fail "nats.creds and nats.nkey are both set: a credentials file already holds an NKey seed; set one" }}
{{- end }}
{{- $files := list (dict "volume" "chathub-token" "secret" (required "token.secretName is required" .Values.token.secretName) "dir" "/var/run/secrets/chathub" "vars" (list (list "CHATHUB_TOKEN_FILE" (required "token.key is required" .Values.token.key) "token"))) }}
{{- with $n.creds.secretName }}
{{- $files = append $files (dict "volume" "nats-creds" "secret" . "dir" "/var/run/secrets/nats/creds" "vars" (list (list "NATS_CREDS" $n.creds.key "nats.creds"))) }}
{{- end }}
{{- with $n.nkey.secretName }}
{{- $files = append $files (dict "volume" "nats-nkey" "secret" . "dir" "/var/run/secrets/nats/nkey" "vars" (list (list "NATS_NKEY" $n.nkey.key "nkey.seed"))) }}
{{- end }}
{{- with $n.tlsCA.secretName }}
{{- $files = append $files (dict "volume" "nats-tls-ca" "secret" . "dir" "/var/run/secrets/nats/tls-ca" "vars" (list (list "NATS_TLS_CA" $n.tlsCA.key "ca.crt"))) }}
{{- end }}
{{- with $n.tlsClient.secretName }}
{{- $files = append $files (dict "volume" "nats-tls-client" "secret" . "dir" "/var/run/secrets/nats/tls-client" "vars" (list (list "NATS_TLS_CERT" $n.tlsClient.certKey "tls.crt") (list "NATS_TLS_KEY" $n.tlsClient.keyKey "tls.key"))) }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* The port the worker serves /healthz, /readyz and /metrics on: HTTP_ADDR's, 8080 by default. */}}
{{- define "chathub-operator-worker.httpPort" -}}
{{- $addr := .Values.config.HTTP_ADDR | default ":8080" | toString }}
{{- $port := splitList ":" $addr | last }}
{{- if not (regexMatch "^[0-9]+$" $port) }}
{{- fail (printf "config.HTTP_ADDR %q has no port" $addr) }}
{{- end }}
{{- $port }}
{{- end }}
