<?php
// A PHP origin as frameworks read a request: $_SERVER's HTTP_* names (what PHP made of each
// header name), the $_GET keys (what PHP made of each parameter name), and the method a
// Laravel or Symfony app would run, with its `_method` override applied to a POST.
$server = [];
foreach ($_SERVER as $name => $value) {
    if (strncmp($name, 'HTTP_', 5) === 0) $server[$name] = $value;
}
$method = $_SERVER['REQUEST_METHOD'];
if ($method === 'POST' && isset($_GET['_method'])) {
    $method = is_array($_GET['_method']) ? 'OVERRIDDEN' : strtoupper($_GET['_method']);
}
header('Content-Type: application/json');
echo json_encode(['server' => $server, 'get' => array_keys($_GET), 'method' => $method, 'uri' => $_SERVER['REQUEST_URI']]);
