-- The area the warehouse serves (a province, or Indonesia) as the bulletin names it.
SELECT scope, scope_name FROM ref.scope;
