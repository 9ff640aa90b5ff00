{{- define "gitops-reverser.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gitops-reverser.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "gitops-reverser.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "gitops-reverser.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "gitops-reverser.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gitops-reverser.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gitops-reverser.labels" -}}
{{ include "gitops-reverser.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "gitops-reverser.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gitops-reverser.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gitops-reverser.auditTlsSecretName" -}}
{{- default (printf "%s-audit-tls" (include "gitops-reverser.fullname" .)) .Values.auditWebhook.tlsSecretName }}
{{- end }}

{{/* Refuse what cannot work, with the fix. */}}
{{- define "gitops-reverser.validate" -}}
{{- $bus := dig "bus" "use" "@gitops-reverser/bus-memory" .Values.config }}
{{- if and (gt (int .Values.replicaCount) 1) (ne $bus "@gitops-reverser/bus-nats") }}
{{- fail (printf "replicaCount %d needs the durable bus: set config.bus.use to \"@gitops-reverser/bus-nats\" (with its servers), or replicaCount to 1; with %s each replica would write the same branch" (int .Values.replicaCount) $bus) }}
{{- end }}
{{- if not (kindIs "map" .Values.config) }}
{{- fail "config must be the gitops-reverser config as a map (apiVersion: gitops-reverser/v1alpha2, sources, sink, targets, rules)" }}
{{- end }}
{{- end }}
