//! Reading the form API's inputs: multipart/form-data (as the spec shows) or urlencoded bodies, and the query.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Uri};

use crate::error::ApiError;

/// Most fields one request may carry.
const MAX_FIELDS: usize = 1000;

/// One form value: text, or an uploaded file's bytes.
pub enum Value {
    Text(String),
    File(Vec<u8>),
}

impl Value {
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Value::Text(t) => t.into_bytes(),
            Value::File(b) => b,
        }
    }
}

/// The fields of a form, in order; a name may repeat (the delete operation's list).
pub struct Form {
    fields: Vec<(String, Value)>,
}

impl Form {
    pub async fn read(headers: &HeaderMap, body: Body, limit: usize) -> Result<Form, ApiError> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        // Only the two form encodings: anything else (`text/plain` in particular, which a page on another
        // site may send without a CORS preflight) is refused before the body is read.
        match essence.as_str() {
            "multipart/form-data" => multipart(content_type, crate::body::read(body, limit).await?).await,
            "application/x-www-form-urlencoded" => Ok(Form::urlencoded(&crate::body::read(body, limit).await?)),
            _ => Err(ApiError::invalid(format!(
                "the form API takes multipart/form-data or application/x-www-form-urlencoded bodies, not '{}'",
                content_type.chars().take(64).collect::<String>()
            ))),
        }
    }

    pub fn query(uri: &Uri) -> Form {
        Form::urlencoded(uri.query().unwrap_or("").as_bytes())
    }

    fn urlencoded(bytes: &[u8]) -> Form {
        let fields = form_urlencoded::parse(bytes)
            .take(MAX_FIELDS)
            .map(|(k, v)| (k.into_owned(), Value::Text(v.into_owned())))
            .collect();
        Form { fields }
    }

    /// Takes the first value of a field (names match case-insensitively).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        let index = self.fields.iter().position(|(k, _)| k.eq_ignore_ascii_case(name))?;
        Some(self.fields.remove(index).1)
    }

    /// The first value of a text field, trimmed; empty counts as absent.
    pub fn text(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Text(t)) => Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty())),
            Some(Value::File(bytes)) => String::from_utf8(bytes)
                .map(|t| Some(t.trim().to_string()).filter(|t| !t.is_empty()))
                .map_err(|_| ApiError::invalid(format!("{name} must be text"))),
        }
    }

    pub fn require_text(&mut self, name: &str) -> Result<String, ApiError> {
        self.text(name)?.ok_or_else(|| ApiError::invalid(format!("{name} is required")))
    }

    /// Every value of a field: repeated fields, `Name[]`, or one JSON array such as `["0001","0002"]`.
    pub fn list(&mut self, name: &str) -> Result<Vec<String>, ApiError> {
        let bracketed = format!("{name}[]");
        let mut values = Vec::new();
        while let Some(v) = self.take(name).or_else(|| self.take(&bracketed)) {
            let text =
                String::from_utf8(v.into_bytes()).map_err(|_| ApiError::invalid(format!("{name} must be text")))?;
            let text = text.trim();
            if text.starts_with('[') {
                let items: Vec<String> = serde_json::from_str(text)
                    .map_err(|_| ApiError::invalid(format!("{name} must be a name or a JSON array of names")))?;
                values.extend(items);
            } else if !text.is_empty() {
                values.push(text.to_string());
            }
        }
        Ok(values)
    }
}

async fn multipart(content_type: &str, bytes: Bytes) -> Result<Form, ApiError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::invalid("multipart/form-data request without a valid boundary"))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut parts = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    let bad = |e: multer::Error| ApiError::invalid(format!("malformed multipart/form-data body: {e}"));
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        if fields.len() >= MAX_FIELDS {
            return Err(ApiError::invalid(format!("a form may carry at most {MAX_FIELDS} fields")));
        }
        let name = field.name().unwrap_or("").to_string();
        let is_file = field.file_name().is_some();
        let data = field.bytes().await.map_err(bad)?.to_vec();
        let value = if is_file {
            Value::File(data)
        } else {
            Value::Text(
                String::from_utf8(data).map_err(|_| ApiError::invalid(format!("field {name} must be UTF-8 text")))?,
            )
        };
        fields.push((name, value));
    }
    Ok(Form { fields })
}
