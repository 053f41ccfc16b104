{{- define "quorumkv.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "quorumkv.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "quorumkv.labels" -}}
{{ include "quorumkv.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "quorumkv.selector" -}}
app.kubernetes.io/name={{ .Chart.Name }},app.kubernetes.io/instance={{ .Release.Name }}
{{- end -}}

{{- define "quorumkv.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- /* The controller's pods: a name of their own, so that neither discovery, the Services
nor the PodDisruptionBudget of the members ever select them. */ -}}
{{- define "quorumkv.controllerSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-controller
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "quorumkv.controllerLabels" -}}
{{ include "quorumkv.controllerSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- /* The `helm test` pod: labels of its own, so that no member selector (discovery,
Services, PodDisruptionBudget, the peer port's NetworkPolicy rule) ever matches it. */ -}}
{{- define "quorumkv.testSelectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}-test
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: test
{{- end -}}

{{- define "quorumkv.testLabels" -}}
{{ include "quorumkv.testSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "quorumkv.peersService" -}}
{{ include "quorumkv.fullname" . }}-peers
{{- end -}}

{{- /* TLS is on unless `insecure`; tls.mode then says where the CA comes from. */ -}}
{{- define "quorumkv.tls" -}}
{{- if not .Values.insecure }}true{{ end -}}
{{- end -}}

{{- /* The Secret holding the CA (tls.crt, tls.key) the init containers mint from. */ -}}
{{- define "quorumkv.caSecretName" -}}
{{- if eq .Values.tls.mode "existingSecret" -}}
{{- required "tls.mode=existingSecret needs tls.existingSecret: the name of a Secret with the CA's tls.crt and tls.key" .Values.tls.existingSecret -}}
{{- else -}}
{{ include "quorumkv.fullname" . }}-ca
{{- end -}}
{{- end -}}

{{- /* The scale controller's client identity (role admin); reserved in `users`. */ -}}
{{- define "quorumkv.controllerUser" -}}
quorumkv-controller
{{- end -}}

{{- /* The Secret cert-manager writes a client certificate of `user` into. */ -}}
{{- define "quorumkv.clientSecretName" -}}
{{ include "quorumkv.fullname" .root }}-client-{{ .user }}
{{- end -}}

{{- /*
A pod volume with the CA for an init container: the Secret's tls.crt and tls.key as
ca.crt and ca.key, the names `qkv certs` reads from --ca-dir. cert-manager and
`kubectl create secret tls` both write these two keys.
*/ -}}
{{- define "quorumkv.caVolume" -}}
- name: ca
  secret:
    secretName: {{ include "quorumkv.caSecretName" . }}
    defaultMode: 0440
    items:
      - { key: tls.crt, path: ca.crt }
      - { key: tls.key, path: ca.key }
{{- end -}}

{{- /*
The client certificate of `user` for a pod of the chart (the controller, the test
pod), in the files `qkv certs create-client` writes: ca.crt, client.<user>.crt and
client.<user>.key, in the volume `certs`. With cert-manager it is the Secret of the
chart's Certificate; otherwise an init container mints it from the CA into a memory
emptyDir (helm's genSignedCert cannot write the URI SAN that names the user). The
caller puts the `certs` and (without cert-manager) `ca` volumes in the pod.
Arguments: root (the chart's context), user.
*/ -}}
{{- define "quorumkv.clientCertificateVolumes" -}}
{{- if eq .root.Values.tls.mode "certManager" }}
- name: certs
  secret:
    secretName: {{ include "quorumkv.clientSecretName" . }}
    defaultMode: 0440
    items:
      - { key: ca.crt, path: ca.crt }
      - { key: tls.crt, path: client.{{ .user }}.crt }
      - { key: tls.key, path: client.{{ .user }}.key }
{{- else }}
- name: certs
  emptyDir: { medium: Memory, sizeLimit: 1Mi }
{{ include "quorumkv.caVolume" .root }}
{{- end }}
{{- end -}}

{{- define "quorumkv.clientCertificateInit" -}}
{{- if ne .root.Values.tls.mode "certManager" }}
- name: client-certificate
  image: {{ include "quorumkv.image" .root }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: [sh, -ec]
  args:
    - |
      rm -f /certs/ca.crt /certs/client.{{ .user }}.crt /certs/client.{{ .user }}.key
      cp /ca/ca.crt /certs/ca.crt
      node dist/src/cli/main.js certs create-client --ca-dir /ca --certs-dir /certs --user {{ .user }}
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities: { drop: [ALL] }
  resources:
    requests: { cpu: 10m, memory: 64Mi }
    limits: { memory: 128Mi }
  volumeMounts:
    - { name: ca, mountPath: /ca, readOnly: true }
    - { name: certs, mountPath: /certs }
{{- end }}
{{- end -}}

{{- /* Refusals that the values schema cannot express. */ -}}
{{- define "quorumkv.validate" -}}
{{- if and .Values.insecure (ne .Values.service.type "ClusterIP") }}
{{- fail (printf "service.type=%s is refused while insecure=true: it would expose a plaintext port with no client authentication outside the cluster. Turn TLS on (insecure=false) or use service.type=ClusterIP." .Values.service.type) }}
{{- end }}
{{- $seen := dict }}
{{- range .Values.users }}
{{- if eq .name (include "quorumkv.controllerUser" $) }}
{{- fail (printf "users: the name %q is reserved for the chart's scale controller" .name) }}
{{- end }}
{{- if hasKey $seen .name }}
{{- fail (printf "users: %q is listed twice" .name) }}
{{- end }}
{{- $_ := set $seen .name true }}
{{- end }}
{{- if and (not .Values.insecure) (eq .Values.tls.mode "existingSecret") }}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (include "quorumkv.caSecretName" .) }}
{{- if and $secret (not (and (hasKey ($secret.data | default dict) "tls.crt") (hasKey ($secret.data | default dict) "tls.key"))) }}
{{- fail (printf "tls.existingSecret %q has no tls.crt and tls.key (the CA certificate and its key)" (include "quorumkv.caSecretName" .)) }}
{{- end }}
{{- end }}
{{- end -}}

{{- /* `users` as the users file of `qkv server` reads it: {"users":[{name, roles}]}. */ -}}
{{- define "quorumkv.usersJson" -}}
{{- $users := list }}
{{- range .Values.users }}
{{- $users = append $users (dict "name" .name "roles" .roles) }}
{{- end }}
{{- dict "users" $users | toJson }}
{{- end -}}
