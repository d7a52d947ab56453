{{/* Names, labels and the checks every template shares. */}}

{{- define "keystep.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "keystep.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "keystep.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "keystep.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "keystep.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keystep.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "keystep.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "keystep.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "keystep.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "keystep.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* dnsNames: the Service's names, then ca.dnsNames. */}}
{{- define "keystep.dnsNames" -}}
{{- $svc := include "keystep.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $names := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.ca.clusterDomain) -}}
{{- concat $names .Values.ca.dnsNames | uniq | toJson -}}
{{- end -}}

{{/* validate refuses value sets that cannot work. */}}
{{- define "keystep.validate" -}}
{{- if not (has .Values.storage.kind (list "postgres" "sqlite")) -}}
{{- fail (printf "storage.kind must be postgres or sqlite, not %q" .Values.storage.kind) -}}
{{- end -}}
{{- if and (eq .Values.storage.kind "sqlite") (gt (int .Values.replicaCount) 1) -}}
{{- fail (printf "storage.kind=sqlite allows one replica only (replicaCount is %d): SQLite is a local file, so replicas would not share state; use storage.kind=postgres or replicaCount=1" (int .Values.replicaCount)) -}}
{{- end -}}
{{- if eq .Values.storage.kind "postgres" -}}
{{- $_ := required "storage.postgres.dsn is required with storage.kind=postgres (a libpq DSN without the password)" .Values.storage.postgres.dsn -}}
{{- $_ := required "storage.postgres.existingSecret is required with storage.kind=postgres (the Secret holding the database password)" .Values.storage.postgres.existingSecret -}}
{{- end -}}
{{- $_ := required "ca.secretName is required: the Secret from keystep init (kubernetes/intermediate-secret.yaml)" .Values.ca.secretName -}}
{{- end -}}
