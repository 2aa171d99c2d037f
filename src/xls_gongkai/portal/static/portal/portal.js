// 收集平台的页面脚本：只做增强，关掉 JavaScript 时所有功能照样可用（表单直接提交）。
(function () {
  "use strict";

  function megabytes(n) {
    return (n / 1024 / 1024).toFixed(1);
  }

  // 上传：先在浏览器里看大小（过大的文件不必传完才被拒绝），再显示“正在检查”，并防止连点两次。
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var max = parseInt(document.body.dataset.maxUpload || "0", 10);
      var inputs = form.querySelectorAll("input[type=file]");
      var tooBig = [];
      var count = 0;
      inputs.forEach(function (input) {
        Array.prototype.forEach.call(input.files || [], function (file) {
          count += 1;
          if (max && file.size > max) {
            tooBig.push(file.name + "（" + megabytes(file.size) + " MB）");
          }
        });
      });
      var note = form.querySelector("[data-note]");
      if (tooBig.length) {
        event.preventDefault();
        if (note) {
          note.textContent = "文件过大：" + tooBig.join("、") + "。单个文件不能超过 " + megabytes(max) +
            " MB。填报表通常只有几百 KB，请确认选对了文件；若插入了图片，请删除后另存再上传。";
          note.hidden = false;
        }
        return;
      }
      if (!count) {
        return; // 服务器会提示“请先选择文件”
      }
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      var busy = form.querySelector(".busy");
      if (busy) {
        busy.classList.add("on");
      }
    });
  });

  // 复制催报文字或链接
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      if (!target) {
        return;
      }
      var text = target.value !== undefined ? target.value : target.textContent;
      var done = function () {
        var old = button.textContent;
        button.textContent = "已复制";
        window.setTimeout(function () { button.textContent = old; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done);
      } else {
        target.select && target.select();
        document.execCommand("copy");
        done();
      }
    });
  });

  // 打印回执
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // 重要操作再确认一次
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });
})();
