-- Message templates (templates.ts).

-- name: getTemplate
SELECT name, body, updated_by, updated_at FROM templates WHERE name = $1;

-- name: listTemplates
SELECT name, body, updated_by, updated_at FROM templates ORDER BY name;

-- name: setTemplate
INSERT INTO templates (name, body, updated_by, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at;
