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

{{/* The Secret the webhook-certificate hook Job creates once (when a webhook has no tlsSecretName). */}}
{{- define "gitops-reverser.webhookTlsSecretName" -}}
{{- printf "%s-webhook-tls" (include "gitops-reverser.fullname" .) }}
{{- end }}

{{- define "gitops-reverser.auditTlsSecretName" -}}
{{- default (include "gitops-reverser.webhookTlsSecretName" .) .Values.auditWebhook.tlsSecretName }}
{{- end }}

{{- define "gitops-reverser.admissionTlsSecretName" -}}
{{- default (include "gitops-reverser.webhookTlsSecretName" .) .Values.admissionWebhook.tlsSecretName }}
{{- end }}

{{/* "true" when an enabled webhook serves with the generated certificate, so the hook Job must run. */}}
{{- define "gitops-reverser.generatesWebhookCertificate" -}}
{{- if or (and .Values.auditWebhook.enabled (not .Values.auditWebhook.tlsSecretName)) (and .Values.admissionWebhook.enabled (not .Values.admissionWebhook.tlsSecretName)) }}true{{ end }}
{{- end }}

{{/* Labels of the webhook-certificate hooks' objects (Jobs, their pods and access). */}}
{{- define "gitops-reverser.webhookCertificateLabels" -}}
{{- toYaml (dict "app.kubernetes.io/name" (printf "%s-webhook-certificate" (include "gitops-reverser.name" .)) "app.kubernetes.io/instance" .Release.Name "app.kubernetes.io/component" "webhook-certificate" "app.kubernetes.io/managed-by" .Release.Service "helm.sh/chart" (printf "%s-%s" .Chart.Name .Chart.Version)) }}
{{- end }}

{{/*
  The spec of a webhook-certificate hook Job: the product image, as the pod's user, running
  `gitops-reverser` with `args` under `serviceAccountName`. Called with a dict: root, serviceAccountName, labels, args.
*/}}
{{- define "gitops-reverser.webhookCertificateJobSpec" -}}
{{- $root := .root }}
spec:
  backoffLimit: 4
  activeDeadlineSeconds: 300
  template:
    metadata:
      labels:
        {{- toYaml .labels | nindent 8 }}
    spec:
      serviceAccountName: {{ .serviceAccountName }}
      restartPolicy: Never
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      containers:
        - name: webhook-certificate
          image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag | default $root.Chart.AppVersion }}"
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- range .args }}
            - {{ . }}
            {{- end }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml $root.Values.webhookCertificate.resources | nindent 12 }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/* The names the generated serving certificate is valid for: the Service's. */}}
{{- define "gitops-reverser.webhookDnsNames" -}}
{{- $service := include "gitops-reverser.fullname" . }}
{{- toJson (list $service (printf "%s.%s" $service .Release.Namespace) (printf "%s.%s.svc" $service .Release.Namespace) (printf "%s.%s.svc.cluster.local" $service .Release.Namespace)) }}
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
{{- if hasKey .Values.auditWebhook "certificateValidityDays" }}
{{- fail "auditWebhook.certificateValidityDays moved to webhookCertificate.validityDays (one generated certificate serves both webhooks)" }}
{{- end }}
{{- if hasKey .Values.networkPolicy "from" }}
{{- fail "networkPolicy.from was split: set networkPolicy.httpFrom (who may reach /metrics, /healthz, /readyz) and networkPolicy.webhookFrom (who may reach the audit and admission ports: the API server)" }}
{{- end }}
{{- if .Values.admissionWebhook.enabled }}
{{- $timeout := int .Values.admissionWebhook.timeoutSeconds }}
{{- if or (lt $timeout 1) (gt $timeout 2) }}
{{- fail (printf "admissionWebhook.timeoutSeconds %d: use 1 or 2; every write waits that long when the webhook does not answer" $timeout) }}
{{- end }}
{{- if and .Values.admissionWebhook.tlsSecretName (not .Values.admissionWebhook.caBundle) (not .Values.admissionWebhook.annotations) }}
{{- fail "admissionWebhook.tlsSecretName is set without admissionWebhook.caBundle: the API server would not trust it; set caBundle to the base64 PEM CA that signed it, or annotations for cert-manager's CA injector (cert-manager.io/inject-ca-from: <namespace>/<certificate>), or leave tlsSecretName empty to have one generated" }}
{{- end }}
{{- $admission := list }}
{{- range $source := (.Values.config.sources | default list) }}
{{- if eq $source.use "@gitops-reverser/source-admission" }}{{ $admission = append $admission $source }}{{ end }}
{{- end }}
{{- if not $admission }}
{{- fail "admissionWebhook.enabled needs the source in config.sources: - { use: \"@gitops-reverser/source-admission\", cluster: <id>, with: { listen: { host: 0.0.0.0, port: 9444 }, tls: { certFile: /etc/gitops-reverser/admission-tls/tls.crt, keyFile: /etc/gitops-reverser/admission-tls/tls.key } } }" }}
{{- end }}
{{- range $source := $admission }}
{{- $listen := dig "with" "listen" dict $source }}
{{- if not (has (toString ($listen.host | default "127.0.0.1")) (list "0.0.0.0" "::")) }}
{{- fail (printf "the source-admission source of cluster %s listens on %s: the API server cannot reach that in a pod; set with.listen.host: 0.0.0.0" $source.cluster (toString ($listen.host | default "127.0.0.1 (its default)"))) }}
{{- end }}
{{- if and $listen.port (regexMatch "^[0-9]+$" (toString $listen.port)) (ne (int $listen.port) (int $.Values.admissionWebhook.port)) }}
{{- fail (printf "the source-admission source of cluster %s listens on port %d but admissionWebhook.port is %d: make them equal" $source.cluster (int $listen.port) (int $.Values.admissionWebhook.port)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
